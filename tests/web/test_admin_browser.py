"""The staff's whole jobs in headless Chromium at 1366x900, in Chinese: finance from a new batch to paid claims
(two people, bank file, results preview, confirm), and a reviewer rejecting a claim without a careless click going
wrong, then the buyer's page showing the reason. Screenshots go to test-artifacts/ at the repository root."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest

from claims.models import Claim, PayoutBatch
from tests.claims.payouts.payout_helpers import approved_claims, results_csv
from tests.factories import claim_payload, image_bytes, make_program, make_staff
from tests.web.chromium import CHROMIUM_MISSING, click_when_free, shot

pytest.importorskip("selenium", reason="selenium is not installed (pip install selenium)")

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

pytestmark = [pytest.mark.browser, CHROMIUM_MISSING]

PASSWORD = "pass-word-123"


def log_in(d, wait, live_server, username: str) -> None:
    d.delete_all_cookies()
    d.get(f"{live_server.url}/admin/login/?next=/admin/")
    d.find_element(By.ID, "id_username").send_keys(username)
    d.find_element(By.ID, "id_password").send_keys(PASSWORD)
    d.find_element(By.CSS_SELECTOR, "#login-form [type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "user-tools")))


def messages_text(d) -> str:
    return " ".join(e.text for e in d.find_elements(By.CSS_SELECTOR, "ul.messagelist li"))


def wait_message(wait, text: str) -> None:
    wait.until(ec.text_to_be_present_in_element((By.CSS_SELECTOR, "ul.messagelist"), text))


def in_viewport(d, element) -> bool:
    return d.execute_script(
        "const r = arguments[0].getBoundingClientRect();"
        "return r.top >= 0 && r.left >= 0 && r.bottom <= window.innerHeight && r.right <= window.innerWidth;",
        element,
    )


def no_sideways_scroll(d, selector: str) -> bool:
    return d.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "return e.scrollWidth <= e.clientWidth && document.documentElement.scrollWidth <= window.innerWidth;",
        selector,
    )


def test_finance_from_batch_to_paid(desktop, live_server, transactional_db, tmp_path):
    program = make_program("finance-car")
    claims = approved_claims(program, 3)
    make_staff("finance1", "finance", PASSWORD)
    make_staff("finance2", "finance", PASSWORD)
    d = desktop
    wait = WebDriverWait(d, 20)

    # The finance home: only finance's pages, the reports one link away.
    log_in(d, wait, live_server, "finance1")
    home = d.find_element(By.ID, "subsidy-shortcuts").text
    assert "新建发放批次" in home and "报表与预算" in home and "窗口受理" not in home
    assert not d.find_elements(By.ID, "recent-actions-module")  # always empty here: no "无可选的"
    shot(d, "finance-home", desktop=True)

    # The first finance user creates the batch from the pages.
    d.find_element(By.LINK_TEXT, "新建发放批次").click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#content-main form")))
    assert "当前有 3 笔" in d.find_element(By.ID, "content-main").text
    shot(d, "finance-batch-create", desktop=True)
    d.find_element(By.CSS_SELECTOR, "#content-main input[type=submit]").click()
    wait_message(wait, "须由另一名财务人员复核")
    batch = PayoutBatch.objects.get()
    assert batch.count == 3 and batch.status == "created"
    assert not d.find_elements(By.ID, "approve-batch")  # the creator is not offered the approval
    assert "本批次由您创建" in d.find_element(By.ID, "batch-actions").text

    # ...and is refused when trying it from the list's action anyway (the two-person rule).
    d.find_element(By.LINK_TEXT, "发放批次").click()
    wait.until(ec.presence_of_element_located((By.ID, "changelist")))
    d.find_element(By.CSS_SELECTOR, f"input.action-select[value='{batch.pk}']").click()
    Select(d.find_element(By.NAME, "action")).select_by_value("approve_batches")
    d.find_element(By.CSS_SELECTOR, "#changelist-form button[name=index]").click()
    wait_message(wait, "另一名财务人员复核")
    assert d.find_elements(By.CSS_SELECTOR, "ul.messagelist li.error")
    batch.refresh_from_db()
    assert batch.status == "created"

    # A second finance user approves it.
    log_in(d, wait, live_server, "finance2")
    d.find_element(By.PARTIAL_LINK_TEXT, "待复核的发放批次").click()
    wait.until(ec.presence_of_element_located((By.ID, "changelist")))
    d.find_element(By.LINK_TEXT, f"#{batch.pk}").click()
    wait.until(ec.element_to_be_clickable((By.ID, "approve-batch"))).click()
    wait_message(wait, "已复核，可以下载银行文件")
    batch.refresh_from_db()
    assert batch.status == "approved" and batch.approved_by.get_username() == "finance2"

    # The batch list at 1366 px: every column, the bank files included, without sideways scrolling.
    d.find_element(By.LINK_TEXT, "发放批次").click()
    wait.until(ec.presence_of_element_located((By.ID, "changelist")))
    files = d.find_element(By.CSS_SELECTOR, "#result_list td.field-files")
    assert "CSV" in files.text and in_viewport(d, files)
    assert no_sideways_scroll(d, "#changelist")
    assert "已复核" in d.find_element(By.ID, "result_list").text
    filters = d.find_element(By.ID, "changelist-filter").text
    assert program.code in filters and "全部项目" in filters and "\n-\n" not in filters + "\n"
    shot(d, "finance-batch-list", desktop=True)

    # The bank file, downloaded by the browser, in the Chinese GBK layout.
    d.find_element(By.LINK_TEXT, f"#{batch.pk}").click()
    wait.until(ec.presence_of_element_located((By.ID, "upload-results")))
    assert no_sideways_scroll(d, "#content-main")
    shot(d, "finance-batch-detail", desktop=True)
    d.find_element(By.CSS_SELECTOR, "a[href$='/file/csv/?layout=cn_gbk']").click()
    name = f"payout-batch-{batch.pk:06d}-cn_gbk.csv"
    wait.until(lambda _d: (d.download_dir / name).exists())
    rows = list(csv.reader(io.StringIO((d.download_dir / name).read_bytes().decode("gbk"))))
    assert rows[0] == ["收款账号", "收款户名", "金额", "收款行", "用途", "业务编号"]
    assert sorted(r[5] for r in rows[1:4]) == sorted(c.claim_number for c in claims)
    assert all(Decimal(r[2]) == Decimal("6000.00") for r in rows[1:4])
    assert "18000.00" in rows[-1]  # the total row

    # The bank's results file, uploaded through the page: a preview first, nothing changes yet.
    results = tmp_path / "回盘.csv"
    results.write_bytes(
        results_csv(
            [
                (claims[0].claim_number, "paid", "B001", ""),
                (claims[1].claim_number, "paid", "B002", ""),
                (claims[2].claim_number, "failed", "", "账户已销户"),
            ]
        )
    )
    d.find_element(By.ID, "id_file").send_keys(str(results))
    d.find_element(By.ID, "upload-results").click()
    wait.until(ec.presence_of_element_located((By.ID, "confirm-results")))
    summary = d.find_element(By.ID, "preview-summary").text
    assert "发放成功 2 笔 ¥12,000.00" in summary and "发放失败 1 笔 ¥6,000.00" in summary, summary
    assert "无法处理的行 0 行" in summary
    assert len(d.find_elements(By.CSS_SELECTOR, "#preview-rows tbody tr")) == 3
    assert not Claim.objects.filter(status="paid").exists()
    shot(d, "finance-results-preview", desktop=True)
    d.find_element(By.ID, "confirm-results").click()
    wait_message(wait, "成功 2 笔，失败 1 笔")
    assert set(Claim.objects.filter(pk__in=[c.pk for c in claims[:2]]).values_list("status", flat=True)) == {
        "paid"
    }
    assert Claim.objects.get(pk=claims[2].pk).status == "payout_failed"
    payouts = d.find_element(By.CSS_SELECTOR, "table.batch-payouts").text
    assert payouts.count("已发放") == 2 and "账户已销户" in payouts

    # A paid claim's own page says so.
    d.find_element(By.LINK_TEXT, claims[0].claim_number).click()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, ".review-head .status")))
    assert d.find_element(By.CSS_SELECTOR, ".review-head .status").text == "已发放"

    # The reports, one link from the finance home.
    d.find_element(By.LINK_TEXT, "首页").click()
    d.find_element(By.LINK_TEXT, "报表与预算").click()
    wait.until(ec.title_contains("报表"))
    report = d.find_element(By.ID, f"report-{program.code}").text
    assert program.name in report and "已发放：¥12,000.00" in report
    assert d.execute_script(  # the day's figures are drawn even on the first day
        "return Array.from(document.querySelectorAll('.budget-chart polyline'))"
        ".every(p => p.getBoundingClientRect().width > 100)"
    )
    shot(d, "finance-reports", desktop=True)

    # A page of another role: refused in Chinese, with the way back.
    d.get(f"{live_server.url}/admin/claims/claim/counter/")
    body = wait.until(ec.presence_of_element_located((By.TAG_NAME, "h1"))).text
    assert body == "无权访问此页面" and "Forbidden" not in d.page_source
    d.find_element(By.LINK_TEXT, "返回工作台").click()
    wait.until(ec.presence_of_element_located((By.ID, "subsidy-shortcuts")))


def test_reviewer_rejects_only_with_a_reason_and_the_buyer_sees_it(
    desktop, browser, live_server, transactional_db, tmp_path
):
    program = make_program("review-car")
    make_staff("reviewer1", "reviewer", PASSWORD)
    d, phone = desktop, browser
    wait, phone_wait = WebDriverWait(d, 20), WebDriverWait(phone, 20)

    # The buyer applies from a phone; the confirm step sums up everything entered, masked.
    data = claim_payload(program.code)
    phone.get(f"{live_server.url}/p/{program.code}/apply/")
    phone_wait.until(ec.visibility_of_element_located((By.ID, "f-applicant_name")))
    phone.execute_script(
        """
        const data = arguments[0];
        for (const [name, value] of Object.entries(data)) {
          const el = document.getElementById('f-' + name);
          if (el && name !== 'fuel_type') el.value = value;
        }
        document.getElementById('f-fuel_type-nev').checked = true;
        """,
        data,
    )
    for _step in range(4):
        click_when_free(phone, "next-btn")
    phone_wait.until(ec.visibility_of_element_located((By.ID, "f-invoice")))
    for kind in ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip"):
        path = tmp_path / f"{kind}.png"
        path.write_bytes(image_bytes(f"{kind} review", size=(480, 320)))
        phone.find_element(By.ID, f"f-{kind}").send_keys(str(path))
    click_when_free(phone, "next-btn")
    phone_wait.until(ec.visibility_of_element_located((By.ID, "review-summary")))
    review = phone.find_element(By.ID, "review-summary").text
    assert data["id_number"] not in review and data["bank_account"] not in review
    assert data["applicant_name"] in review and data["vin"] in review and data["invoice_number"] in review
    click_when_free(phone, "f-declaration")
    shot(phone, "buyer-confirm")
    phone.find_element(By.ID, "submit-btn").click()
    phone_wait.until(ec.url_contains("/submitted/"))
    claim = Claim.objects.get()

    # The reviewer opens it from the queue: the decision panel is on the first screen at 1366x900.
    log_in(d, wait, live_server, "reviewer1")
    d.find_element(By.PARTIAL_LINK_TEXT, "待审核申请").click()
    wait.until(ec.presence_of_element_located((By.ID, "changelist")))
    d.find_element(By.LINK_TEXT, claim.claim_number).click()
    panel = wait.until(ec.visibility_of_element_located((By.ID, "decision-panel")))
    assert d.execute_script("return window.scrollY") == 0
    assert in_viewport(d, panel)
    assert no_sideways_scroll(d, "#content-main")
    shot(d, "reviewer-claim", desktop=True, full_page=False)

    # Rejecting without a reason: the browser stops it on the spot, in Chinese...
    d.find_element(By.CSS_SELECTOR, "#reject-box summary").click()
    submit = wait.until(ec.element_to_be_clickable((By.ID, "reject-submit")))
    submit.click()
    code = d.find_element(By.ID, "reject-reason-code")
    assert d.execute_script("return !arguments[0].validity.valid", code)
    assert not ec.alert_is_present()(d)  # no "are you sure?" before the form is complete
    # ...and the server refuses it too (a page without the browser's check), in Chinese, writing nothing.
    d.execute_script("arguments[0].removeAttribute('required')", code)
    d.find_element(By.ID, "reject-reason").send_keys("看着不对")
    submit.click()
    wait.until(ec.alert_is_present()).accept()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist li.error")))
    assert "请选择不予通过原因" in messages_text(d), messages_text(d)
    claim.refresh_from_db()
    assert claim.status == "under_review"

    # "Other" without saying what: refused.
    d.find_element(By.CSS_SELECTOR, "#reject-box summary").click()
    Select(d.find_element(By.ID, "reject-reason-code")).select_by_value("other")
    d.find_element(By.ID, "reject-submit").click()
    reason_box = d.find_element(By.ID, "reject-reason")
    assert d.execute_script("return !arguments[0].validity.valid", reason_box)
    d.execute_script("arguments[0].removeAttribute('required')", reason_box)
    d.find_element(By.ID, "reject-submit").click()
    wait.until(ec.alert_is_present()).accept()
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "ul.messagelist li.error")))
    assert "其他原因" in messages_text(d) and "说明" in messages_text(d), messages_text(d)
    claim.refresh_from_db()
    assert claim.status == "under_review"

    # A chosen reason rejects.
    d.find_element(By.CSS_SELECTOR, "#reject-box summary").click()
    Select(d.find_element(By.ID, "reject-reason-code")).select_by_value("invoice_invalid")
    d.find_element(By.ID, "reject-submit").click()
    wait.until(ec.alert_is_present()).accept()
    wait_message(wait, "已驳回")
    claim.refresh_from_db()
    assert claim.status == "rejected" and claim.reject_reason == "购车发票真伪查验未通过"

    # The buyer looks it up: the reason comes first.
    phone.delete_all_cookies()  # coming back later
    phone.get(f"{live_server.url}/claim/?n={claim.claim_number}")
    phone.find_element(By.ID, "f-id_number").send_keys(data["id_number"])
    phone.find_element(By.CSS_SELECTOR, "#lookup-form button[type=submit]").click()
    reason = phone_wait.until(ec.visibility_of_element_located((By.ID, "reject-reason")))
    assert "购车发票真伪查验未通过" in reason.text
    assert in_viewport(phone, reason)
    shot(phone, "buyer-rejected")
