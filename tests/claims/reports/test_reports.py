"""Reports per program (CSV and XLSX), the budget chart, and the finance admin pages."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

from django.utils import timezone
from openpyxl import load_workbook

from claims.models import AuditLog, PayoutBatch
from conftest import token_client
from tests.claims.payouts.payout_helpers import approved_claims, assert_budget_clean, results_csv, upload
from tests.factories import submit_claim


def _setup(program, finance, finance2):
    paid = approved_claims(program, 2)  # nev, 158000 -> 6000 each
    failed = approved_claims(program, 1, fuel_type="fuel", invoice_amount="80000.00")  # 3500
    submit_claim(program, invoice_amount="30000.00")  # nev 3000, under review
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    token_client(finance2).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/")
    rows = [[c.claim_number, "paid", f"B{c.pk}", ""] for c in paid] + [
        [failed[0].claim_number, "failed", "", "错号"]
    ]
    r = token_client(finance).post(
        f"/api/v1/staff/payout-batches/{batch_id}/results/", upload(results_csv(rows)), format="multipart"
    )
    assert r.status_code == 200, r.json()
    return paid


def _csv(response) -> list[list[str]]:
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_summary_totals_match_the_budget(program, finance, finance2, auditor):
    _setup(program, finance, finance2)
    program.refresh_from_db()
    r = token_client(auditor).get(f"/api/v1/staff/reports/{program.code}/summary/?format=csv")
    assert r.status_code == 200
    rows = _csv(r)
    assert rows[0] == [
        "dimension",
        "key",
        "label",
        "claims",
        "subsidy_amount",
        "reserved_amount",
        "paid_amount",
    ]
    totals = {row[0]: row for row in rows[1:] if row[1] == "total"}
    assert set(totals) == {"status", "tier", "fuel_type", "dealer"}
    for row in totals.values():
        assert row[3] == "4"
        assert Decimal(row[5]) == program.reserved == Decimal("6500.00")
        assert Decimal(row[6]) == program.paid == Decimal("12000.00")
    by_status = {row[1]: row for row in rows if row[0] == "status"}
    assert by_status["paid"][3:5] == ["2", "12000.00"]
    assert by_status["payout_failed"][3:5] == ["1", "3500.00"]
    fuel = {row[1]: row for row in rows if row[0] == "fuel_type"}
    assert fuel["fuel"][3] == "1" and fuel["nev"][3] == "3"
    assert AuditLog.objects.filter(action="report_exported").count() == 1


def test_daily_and_vehicles(program, finance, finance2):
    paid = _setup(program, finance, finance2)
    client = token_client(finance)
    rows = _csv(client.get(f"/api/v1/staff/reports/{program.code}/daily/?format=csv"))
    today = timezone.localdate().isoformat()
    last = rows[-1]
    assert last[0] == today
    assert last[1:3] == ["4", "18500.00"]  # submitted today
    assert last[3:5] == ["2", "12000.00"]  # paid today
    assert last[5:8] == ["6500.00", "12000.00", "781500.00"]  # reserved, paid, available at end of day

    rows = _csv(client.get(f"/api/v1/staff/reports/{program.code}/vehicles/?format=csv"))
    assert [r[0] for r in rows[1:-1]] == [c.claim_number for c in paid]
    assert rows[1][1] == paid[0].vin and rows[1][9] == today
    assert rows[-1][0] == "合计" and rows[-1][8] == "12000.00"

    r = client.get(f"/api/v1/staff/reports/{program.code}/all/?format=xlsx")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(r.streaming_content)))
    assert wb.sheetnames == ["summary", "daily", "vehicles"]
    vehicles = list(wb["vehicles"].iter_rows(values_only=True))
    assert vehicles[-1][0] == "合计" and Decimal(str(vehicles[-1][8])) == Decimal("12000")
    assert_budget_clean(program)


def test_reports_refusals(program, reviewer, finance):
    assert (
        token_client(reviewer).get(f"/api/v1/staff/reports/{program.code}/summary/?format=csv").status_code
        == 403
    )
    r = token_client(finance).get(f"/api/v1/staff/reports/{program.code}/nope/?format=csv")
    assert r.status_code == 400 and r.json()["code"] == "invalid_report"
    assert token_client(finance).get("/api/v1/staff/reports/none/summary/?format=csv").status_code == 404


def test_admin_finance_pages_and_chart(client, program, finance, finance2, auditor):
    _setup(program, finance, finance2)
    client.force_login(auditor)
    r = client.get("/admin/claims/program/reports/")
    assert r.status_code == 200
    html = r.content.decode()
    assert (
        "<svg" in html
        and "<polyline" in html
        and "http"
        not in html.split("<svg", 1)[1].split("</svg>")[0].replace("http://www.w3.org/2000/svg", "")
    )
    assert client.get("/admin/claims/payoutbatch/").status_code == 200
    assert client.get("/admin/claims/payout/").status_code == 200
    r = client.get(f"/admin/claims/program/reports/{program.code}/vehicles/xlsx/")
    assert r.status_code == 200
    client.force_login(finance)
    batch = PayoutBatch.objects.get()
    r = client.get(f"/admin/claims/payoutbatch/{batch.pk}/file/csv/")
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"\xef\xbb\xbf")
    r = client.get("/admin/claims/claim/dashboard/")  # the review engineer's dashboard includes the chart
    assert r.status_code == 200 and "<polyline" in r.content.decode()
