"""The buyer's path in headless Chromium at phone size: program page, calculator, application with real image
files, confirmation, lookup. Screenshots go to test-artifacts/ at the repository root."""

from __future__ import annotations

import pytest

from tests.factories import claim_payload, image_bytes, make_program
from tests.web.chromium import ARTIFACTS, CHROMIUM_MISSING, click_when_free, shot

pytestmark = [pytest.mark.browser, CHROMIUM_MISSING]


def test_apply_from_a_phone_and_look_the_claim_up(browser, live_server, transactional_db, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from claims.models import Claim

    program = make_program("phone-car")
    wait = WebDriverWait(browser, 20)
    d = browser

    # The program page: rules, live budget, tiers; the calculator works as a plain GET form.
    d.get(f"{live_server.url}/p/{program.code}/")
    assert "谁购买、补贴谁" in d.page_source and "¥800,000.00" in d.page_source
    assert d.execute_script("return document.documentElement.scrollWidth") <= 360  # no sideways scrolling
    shot(d, "01-program")
    amount = d.find_element(By.ID, "calc-amount")
    amount.send_keys("158000")
    d.find_element(By.CSS_SELECTOR, "#calculator input[value=nev]").click()
    d.find_element(By.CSS_SELECTOR, "#calculator button[type=submit]").click()
    wait.until(ec.presence_of_element_located((By.ID, "calc-result")))
    assert "可获补贴 ¥6,000.00" in d.find_element(By.ID, "calc-result").text
    d.execute_script("document.getElementById('calculator').scrollIntoView()")
    d.save_screenshot(str(ARTIFACTS / "02-calculator.png"))

    # Apply: step by step with the stepper.
    d.find_element(By.LINK_TEXT, "在线申请补贴").click()
    wait.until(ec.visibility_of_element_located((By.ID, "f-applicant_name")))
    data = claim_payload(program.code)

    def type_into(name: str) -> None:
        field = d.find_element(By.ID, f"f-{name}")
        field.clear()
        field.send_keys(data[name])

    def set_date(name: str) -> None:
        d.execute_script("arguments[0].value = arguments[1]", d.find_element(By.ID, f"f-{name}"), data[name])

    def next_step() -> None:
        click_when_free(d, "next-btn")

    for name in ("applicant_name", "id_number", "phone"):
        type_into(name)
    shot(d, "03-apply-step1")
    next_step()
    wait.until(ec.visibility_of_element_located((By.ID, "f-vin")))
    d.find_element(By.ID, "f-fuel_type-nev").click()
    type_into("vin")
    type_into("plate_number")
    set_date("license_issue_date")
    next_step()
    wait.until(ec.visibility_of_element_located((By.ID, "f-invoice_number")))
    for name in ("invoice_number", "invoice_code", "invoice_amount", "dealer_credit_code"):
        type_into(name)
    set_date("invoice_date")
    next_step()
    wait.until(ec.visibility_of_element_located((By.ID, "f-pos_amount")))
    for name in ("pos_amount", "bank_name", "bank_account", "account_holder"):
        type_into(name)
    set_date("pos_date")
    next_step()
    wait.until(ec.visibility_of_element_located((By.ID, "f-invoice")))
    for kind in ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip"):
        path = tmp_path / f"{kind}.png"
        path.write_bytes(image_bytes(f"{kind} phone", size=(480, 320)))
        d.find_element(By.ID, f"f-{kind}").send_keys(str(path))
    wait.until(lambda drv: len(drv.find_elements(By.CSS_SELECTOR, ".preview img")) == 5)
    shot(d, "04-apply-documents")
    next_step()
    wait.until(ec.visibility_of_element_located((By.ID, "submit-btn")))
    wait.until(ec.text_to_be_present_in_element((By.ID, "quote-box"), "预计补贴 ¥6,000.00"))
    click_when_free(d, "f-declaration")
    shot(d, "05-apply-confirm")
    d.find_element(By.ID, "submit-btn").click()

    # The confirmation page
    wait.until(ec.url_contains("/submitted/"))
    claim_number = d.find_element(By.ID, "claim-number").text.strip()
    assert claim_number.startswith(program.claim_prefix)
    assert "审核中" in d.find_element(By.ID, "claim-status").text
    shot(d, "06-submitted")
    assert Claim.objects.count() == 1
    assert data["id_number"] not in d.current_url

    # Look it up from a fresh session, as a buyer coming back later would.
    d.delete_all_cookies()
    d.get(f"{live_server.url}/")
    d.find_element(By.LINK_TEXT, "查询我的申请").click()
    wait.until(ec.visibility_of_element_located((By.ID, "f-claim_number")))
    d.find_element(By.ID, "f-claim_number").send_keys(claim_number)
    d.find_element(By.ID, "f-id_number").send_keys(data["id_number"])
    shot(d, "07-lookup")
    d.find_element(By.CSS_SELECTOR, "#lookup-form button[type=submit]").click()
    wait.until(ec.url_contains(f"/claim/{claim_number}/"))
    assert "审核中" in d.find_element(By.ID, "claim-status").text
    assert data["id_number"] not in d.page_source and data["id_number"] not in d.current_url
    assert "申请已受理" in d.page_source
    shot(d, "08-my-claim")


def test_errors_keep_the_chosen_files(browser, live_server, transactional_db, tmp_path):
    """With JavaScript, a refused submission shows the field errors on the same page and the photos stay chosen."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from claims.models import Claim

    program = make_program("phone-car-2")
    d = browser
    wait = WebDriverWait(d, 20)
    d.get(f"{live_server.url}/p/{program.code}/apply/")
    data = claim_payload(program.code, vin="LSV12345678901234")  # wrong check digit
    d.execute_script(
        """
        const [data, skip] = arguments;
        for (const [name, value] of Object.entries(data)) {
          if (name === 'fuel_type' || skip.includes(name)) continue;
          const el = document.getElementById('f-' + name);
          if (el) el.value = value;
        }
        document.getElementById('f-fuel_type-nev').checked = true;
        document.getElementById('f-declaration').checked = true;
        """,
        data,
        [],
    )
    for kind in ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip"):
        path = tmp_path / f"{kind}.png"
        path.write_bytes(image_bytes(f"{kind} again", size=(400, 300)))
        d.execute_script(
            "arguments[0].closest('fieldset.step').hidden = false", d.find_element(By.ID, f"f-{kind}")
        )
        d.find_element(By.ID, f"f-{kind}").send_keys(str(path))
    d.execute_script("document.getElementById('step-confirm').hidden = false")
    d.execute_script("document.getElementById('apply-form').requestSubmit()")
    wait.until(ec.visibility_of_element_located((By.ID, "f-vin-error")))
    assert "校验位" in d.find_element(By.ID, "f-vin-error").text
    assert "f-vin-error" in d.find_element(By.ID, "f-vin").get_attribute("aria-describedby")
    shot(d, "09-apply-error")
    # Fix the VIN and send again: the files were never chosen a second time.
    files_still_there = d.execute_script(
        "return Array.from(document.querySelectorAll('input[type=file]')).every(i => i.files.length === 1)"
    )
    assert files_still_there
    from tests.factories import make_vin

    d.execute_script("document.getElementById('f-vin').value = arguments[0]", make_vin(4242))
    d.execute_script("document.getElementById('apply-form').requestSubmit()")
    wait.until(ec.url_contains("/submitted/"))
    assert Claim.objects.count() == 1


def test_returned_claim_is_corrected_from_a_phone(browser, live_server, transactional_db, tmp_path):
    """A returned claim: the named fields and documents, the deadline, and a correction that keeps the place."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from tests.web.states import make_claim_in

    program = make_program("phone-car-3")
    claim, payload = make_claim_in(program, "returned")
    d = browser
    wait = WebDriverWait(d, 20)
    d.get(f"{live_server.url}/claim/?n={claim.claim_number}")
    d.find_element(By.ID, "f-id_number").send_keys(payload["id_number"])
    d.find_element(By.CSS_SELECTOR, "#lookup-form button[type=submit]").click()
    wait.until(ec.url_contains(f"/claim/{claim.claim_number}/"))
    assert "补正截止日期" in d.page_source and "发票照片不清晰" in d.page_source
    shot(d, "10-returned")
    d.find_element(By.LINK_TEXT, "去补正").click()
    wait.until(ec.visibility_of_element_located((By.ID, "f-invoice")))
    assert not d.find_elements(By.ID, "f-vin")
    path = tmp_path / "invoice-new.png"
    path.write_bytes(image_bytes("invoice corrected", size=(480, 320)))
    d.find_element(By.ID, "f-invoice").send_keys(str(path))
    amount = d.find_element(By.ID, "f-invoice_amount")
    amount.clear()
    amount.send_keys("158000.00")
    shot(d, "11-correct")
    d.find_element(By.ID, "submit-btn").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "claim-status"), "审核中"))
    assert "补正材料已提交" in d.page_source
    shot(d, "12-corrected")


def test_before_the_opening_staged_documents_countdown_and_one_tap(
    browser, live_server, transactional_db, tmp_path
):
    """Before the window opens: every document uploads when chosen, each step is checked, the summary is masked,
    the dry-run check says ready, a countdown runs; at the opening one tap submits. Then a rejected claim's page
    shows its reason first."""
    import datetime as dt

    from django.utils import timezone
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    from claims.models import Claim, StagedUpload
    from tests.web.states import make_claim_in

    today = timezone.localdate()
    program = make_program("launch-car")
    program.claim_window_start = today + dt.timedelta(days=1)
    program.save()
    d = browser
    wait = WebDriverWait(d, 30)
    d.get(f"{live_server.url}/p/{program.code}/apply/")
    wait.until(ec.text_to_be_present_in_element((By.ID, "countdown"), "距开始受理还有"))
    assert d.find_element(By.ID, "submit-btn").get_attribute("disabled")
    data = claim_payload(program.code)

    # Step 1 with a bad ID number: leaving it shows the error beside the field and stays.
    d.find_element(By.ID, "f-applicant_name").send_keys(data["applicant_name"])
    d.find_element(By.ID, "f-id_number").send_keys("110101199001011234")
    d.find_element(By.ID, "f-phone").send_keys(data["phone"])
    click_when_free(d, "next-btn")
    wait.until(ec.visibility_of_element_located((By.ID, "f-id_number-error")))
    assert d.find_element(By.ID, "f-applicant_name").is_displayed()
    shot(d, "13-step-check")
    d.find_element(By.ID, "f-id_number").clear()
    d.find_element(By.ID, "f-id_number").send_keys(data["id_number"])
    click_when_free(d, "next-btn")
    wait.until(ec.visibility_of_element_located((By.ID, "f-vin")))
    d.execute_script(
        """
        const data = arguments[0];
        for (const [name, value] of Object.entries(data)) {
          const el = document.getElementById('f-' + name);
          if (el && name !== 'fuel_type' && !['applicant_name', 'id_number', 'phone'].includes(name)) el.value = value;
        }
        document.getElementById('f-fuel_type-nev').checked = true;
        """,
        data,
    )
    for _step in range(3):
        click_when_free(d, "next-btn")
    wait.until(ec.visibility_of_element_located((By.ID, "f-invoice")))
    assert d.find_element(By.ID, "f-invoice").get_attribute("capture") is None
    for kind in ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip"):
        path = tmp_path / f"{kind}.jpg"
        path.write_bytes(image_bytes(f"{kind} staged", size=(640, 480), fmt="JPEG"))
        d.find_element(By.ID, f"f-{kind}").send_keys(str(path))
    wait.until(lambda drv: StagedUpload.objects.count() == 5)
    wait.until(ec.text_to_be_present_in_element((By.ID, "f-pos_slip-status"), "已上传"))
    shot(d, "14-staged-documents")
    click_when_free(d, "next-btn")
    wait.until(ec.visibility_of_element_located((By.ID, "review-summary")))
    wait.until(ec.text_to_be_present_in_element((By.ID, "ready-box"), "预检通过"))
    review = d.find_element(By.ID, "review-summary").text
    assert data["id_number"] not in review and data["bank_account"] not in review
    assert data["id_number"][:4] + "*" in review and data["vin"] in review
    click_when_free(d, "f-declaration")
    shot(d, "15-confirm-before-opening")
    assert not Claim.objects.exists()

    # The opening: the window starts today and the page's clock reaches it in two seconds.
    program.claim_window_start = today
    program.save()
    d.execute_script(
        "document.getElementById('launch-box').setAttribute('data-opens-at', String(Date.now() + 2000))"
    )
    wait.until(lambda drv: drv.find_element(By.ID, "submit-btn").get_attribute("disabled") is None)
    assert "立即提交" in d.find_element(By.ID, "submit-btn").text
    d.find_element(By.ID, "submit-btn").click()  # one tap
    wait.until(ec.url_contains("/submitted/"))
    claim = Claim.objects.get()
    assert claim.documents.count() == 5
    assert StagedUpload.objects.filter(claim=claim).count() == 5
    shot(d, "16-submitted-at-opening")

    # A rejected claim: its reason first, no big amount.
    rejected, payload = make_claim_in(program, "rejected")
    d.delete_all_cookies()
    d.get(f"{live_server.url}/claim/?n={rejected.claim_number}")
    d.find_element(By.ID, "f-id_number").send_keys(payload["id_number"])
    d.find_element(By.CSS_SELECTOR, "#lookup-form button[type=submit]").click()
    wait.until(ec.visibility_of_element_located((By.ID, "reject-reason")))
    assert "¥6,000.00" not in d.find_element(By.CSS_SELECTOR, ".status-card").text
    assert d.execute_script("return document.documentElement.scrollWidth") <= 360
    shot(d, "17-rejected")
