"""The settlement at close: per claim, per tier and fuel type, per dealer; totals reconcile with check_budget."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from claims.models import AuditLog
from claims.reports.settlement import settlement_build
from conftest import token_client
from tests.claims.payouts.payout_helpers import approved_claims, results_csv, upload
from tests.factories import make_credit_code, make_program, submit_claim

pytestmark = pytest.mark.django_db


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_settlement_reconciles_to_the_fen_and_downloads_as_xlsx(finance, finance2, reviewer):
    program = make_program("settle", budget="20000.00")
    paid, approved = approved_claims(program, 2)  # nev, 6000 each
    fuel = submit_claim(program, fuel_type="fuel", invoice_amount="30000.00")  # 2500, under review
    waiting = submit_claim(program)  # 6000 does not fit the 5500 left: waitlisted
    assert waiting.status == "waitlisted" and fuel.status == "under_review"
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    assert token_client(finance2).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/").status_code == 200
    data = results_csv([[paid.claim_number, "paid", "B1", ""]])
    r = token_client(finance).post(
        f"/api/v1/staff/payout-batches/{batch_id}/results/", upload(data), format="multipart"
    )
    assert r.status_code == 200, r.json()
    call_command("close_program", program.code, stdout=io.StringIO())

    s = settlement_build(program)
    assert s.budget_ok, s.problems
    assert (s.total.paid, s.total.reserved) == (Decimal("6000.00"), Decimal("8500.00"))
    assert s.available == Decimal("5500.00")
    tiers = {g.key: (g.claims, g.subsidy, g.reserved, g.paid) for g in s.by_tier_fuel}
    assert tiers[(2, "nev")] == (3, Decimal("18000.00"), Decimal("6000.00"), Decimal("6000.00"))
    assert tiers[(0, "fuel")] == (1, Decimal("2500.00"), Decimal("2500.00"), Decimal("0.00"))
    assert sum(g.paid for g in s.by_dealer) == s.total.paid
    statuses = {g.key[0]: g.claims for g in s.by_status}
    assert statuses == {"paid": 1, "approved": 1, "under_review": 1, "unfunded": 1}
    out = io.StringIO()
    call_command("check_budget", program.code, stdout=out)
    assert f"paid           {s.total.paid:.2f}" in out.getvalue()

    client = _admin(finance)
    page = client.get(reverse("admin:claims_program_settlement", args=[program.code]))
    html = page.content.decode()
    assert page.status_code == 200 and "结算汇总" in html and 'id="reconciled"' in html
    assert "按档次和车辆类型" in html and "按销售方" in html and waiting.claim_number in html
    r = client.get(reverse("admin:claims_program_settlement_xlsx", args=[program.code]))
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    assert wb.sheetnames == ["结算汇总", "逐笔明细", "按档次和车辆类型", "按销售方", "按状态"]
    total_row = list(wb["逐笔明细"].iter_rows(values_only=True))[-1]
    assert total_row[0] == "合计" and Decimal(str(total_row[8])) == Decimal("6000.00")
    assert AuditLog.objects.filter(action="settlement_export").count() == 1
    assert (
        _admin(reviewer).get(reverse("admin:claims_program_settlement", args=[program.code])).status_code
        == 403
    )


def test_settlement_page_query_count_does_not_grow_with_the_claims(finance):
    program = make_program("settle-count", budget="80000.00")
    client = _admin(finance)
    url = reverse("admin:claims_program_settlement", args=[program.code])

    def page_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    client.get(url)  # the session and the permission caches of a first request
    submit_claim(program)
    few = page_queries()
    for i in range(5):
        submit_claim(
            program,
            fuel_type="fuel" if i % 2 else "nev",
            invoice_amount="30000.00" if i % 2 else "158000.00",
            dealer_credit_code=make_credit_code(2 + i),
        )
    assert page_queries() == few <= 15
    s = settlement_build(program)
    assert s.budget_ok and s.total.claims == 6 and len(s.by_dealer) == 6
