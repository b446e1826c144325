"""Finance's whole job in the admin: batch, second approval, bank file, results preview and confirm."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.models import AuditLog, Claim, Payout, PayoutBatch
from tests.claims.payouts.payout_helpers import approved_claims, assert_budget_clean, results_csv

BATCHES = "/admin/claims/payoutbatch/"


def test_batch_to_paid_through_the_admin(client, program, finance, finance2):
    claims = approved_claims(program, 3)
    client.force_login(finance)
    r = client.get(BATCHES)
    assert r.status_code == 200
    page = r.content.decode()
    assert "新建发放批次" in page, page[page.find("object-tools") - 100 : page.find("object-tools") + 400]
    assert "Csv name" not in page
    r = client.post(BATCHES + "create/", {"program": ""}, follow=True)
    batch = PayoutBatch.objects.get()
    assert batch.count == 3 and "须由另一名财务人员复核" in r.content.decode()
    page = r.content.decode()
    assert claims[0].claim_number in page and "复核通过本批次" not in page  # the creator is not offered it
    r = client.post(BATCHES + f"{batch.pk}/approve/", follow=True)
    assert "批次须由创建人以外的另一名财务人员复核" in r.content.decode()
    batch.refresh_from_db()
    assert batch.status == "created"

    client.force_login(finance2)
    assert "复核通过本批次" in client.get(BATCHES + f"{batch.pk}/change/").content.decode()
    client.post(BATCHES + f"{batch.pk}/approve/")
    batch.refresh_from_db()
    assert batch.status == "approved" and batch.approved_by == finance2
    r = client.get(BATCHES + f"{batch.pk}/file/csv/?layout=cn_gbk")
    assert r.status_code == 200 and b"".join(r.streaming_content).decode("gbk").startswith("收款账号")

    data = results_csv(
        [
            (claims[0].claim_number, "paid", "B001", ""),
            (claims[1].claim_number, "paid", "B002", ""),
            (claims[2].claim_number, "failed", "", "账户已销户"),
        ]
    )
    upload = SimpleUploadedFile("results.csv", data, content_type="text/csv")
    r = client.post(BATCHES + f"{batch.pk}/results/", {"file": upload})
    page = r.content.decode()
    assert r.status_code == 200 and "确认入账" in page
    assert r.context["preview"].paid == 2 and str(r.context["preview"].paid_total) == "12000.00"
    assert r.context["preview"].failed == 1 and not r.context["preview"].problems
    assert Claim.objects.filter(status="paid").count() == 0  # a preview changes nothing
    sha = r.context["sha256"]
    r = client.post(
        BATCHES + f"{batch.pk}/results/", {"confirm": "1", "sha256": sha, "file_name": "r.csv"}, follow=True
    )
    assert "成功 2 笔，失败 1 笔" in r.content.decode()
    assert Claim.objects.filter(status="paid").count() == 2
    assert Claim.objects.get(pk=claims[2].pk).status == "payout_failed"
    # Confirming again (a double click) changes nothing.
    r = client.post(BATCHES + f"{batch.pk}/results/", {"confirm": "1", "sha256": sha}, follow=True)
    assert "成功 0 笔，失败 0 笔，此前已记录 3 笔" in r.content.decode()
    assert AuditLog.objects.filter(action="payout_results_imported").count() == 1
    assert_budget_clean(program)


def test_refused_lines_are_shown_and_nothing_is_applied(client, program, finance, finance2):
    claims = approved_claims(program, 1)
    client.force_login(finance)
    client.post(BATCHES + "create/", {})
    batch = PayoutBatch.objects.get()
    client.force_login(finance2)
    client.post(BATCHES + f"{batch.pk}/approve/")
    data = results_csv([(claims[0].claim_number, "paid", "", ""), ("NOPE-000001", "paid", "X", "")])
    r = client.post(BATCHES + f"{batch.pk}/results/", {"file": SimpleUploadedFile("r.csv", data)})
    page = r.content.decode()
    assert "发放成功的记录须有银行流水号" in page and "确认入账" not in page
    r = client.post(BATCHES + f"{batch.pk}/results/", {"confirm": "1", "sha256": "0" * 64}, follow=True)
    assert "待确认的回盘文件已失效" in r.content.decode()
    assert Payout.objects.get().status == "batched"


def test_selected_payouts_make_a_batch(client, program, finance):
    claims = approved_claims(program, 3)
    client.force_login(finance)
    chosen = Payout.objects.filter(claim__in=claims[:2]).values_list("id", flat=True)
    r = client.post(
        "/admin/claims/payout/", {"action": "batch_selected", "_selected_action": [str(i) for i in chosen]}
    )
    assert r.status_code == 302
    batch = PayoutBatch.objects.get()
    assert batch.count == 2 and set(batch.payouts.values_list("id", flat=True)) == set(chosen)


def test_finance_home_offers_only_its_pages_and_403_is_chinese(client, finance):
    client.force_login(finance)
    page = client.get("/admin/").content.decode()
    assert "窗口受理" not in page and "报表与预算" in page and "新建发放批次" in page
    r = client.get("/admin/claims/claim/counter/")
    assert r.status_code == 403 and "无权访问" in r.content.decode() and "Forbidden" not in r.content.decode()


def test_finance_lists_make_the_same_number_of_queries_for_more_rows(client, program, finance, finance2):
    def batches(n):
        for _ in range(n):
            approved_claims(program, 1)
            client.force_login(finance)
            client.post(BATCHES + "create/", {})

    def count(url):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    batches(1)
    client.force_login(finance2)
    few = {url: count(url) for url in (BATCHES, "/admin/claims/payout/", "/admin/claims/program/reports/")}
    batches(4)
    client.force_login(finance2)
    for url, n in few.items():
        assert count(url) <= n, url
        assert n <= 15, url
