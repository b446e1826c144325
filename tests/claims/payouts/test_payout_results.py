"""Importing the bank's results file: all or nothing, idempotent, ledger moves exactly once."""

from __future__ import annotations

from decimal import Decimal

from django.core.management import call_command

from claims.models import AuditLog, Claim, ClaimEvent, LedgerEntry, Payout, PayoutBatch, PayoutResultImport
from conftest import token_client
from tests.claims.payouts.payout_helpers import (
    approved_claims,
    assert_budget_clean,
    payout_of,
    results_csv,
    upload,
)


def _approved_batch(program, finance, finance2, n=3):
    claims = approved_claims(program, n)
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    assert token_client(finance2).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/").status_code == 200
    return claims, batch_id


def _post(finance, batch_id, data):
    return token_client(finance).post(
        f"/api/v1/staff/payout-batches/{batch_id}/results/", upload(data), format="multipart"
    )


def _snapshot(program):
    program.refresh_from_db()
    return (
        program.reserved,
        program.paid,
        LedgerEntry.objects.count(),
        ClaimEvent.objects.count(),
        list(Claim.objects.order_by("id").values_list("status", flat=True)),
        list(Payout.objects.order_by("id").values_list("status", flat=True)),
        AuditLog.objects.count(),
        PayoutResultImport.objects.count(),
    )


def test_results_pay_and_fail_and_same_file_twice_changes_nothing(program, finance, finance2):
    (a, b, c), batch_id = _approved_batch(program, finance, finance2)
    program.refresh_from_db()
    assert (program.reserved, program.paid) == (Decimal("18000.00"), Decimal("0.00"))
    data = results_csv(
        [
            [a.claim_number, "paid", "BANK0001", ""],
            [b.claim_number, "failed", "", "户名与账号不符"],
        ]
    )
    r = _post(finance, batch_id, data)
    assert r.status_code == 200, r.json()
    assert r.json() | {} == {
        "batch": batch_id,
        "lines": 2,
        "paid": 1,
        "failed": 1,
        "unchanged": 0,
        "batch_status": "approved",
    }
    a.refresh_from_db(), b.refresh_from_db(), c.refresh_from_db()
    assert (a.status, a.bank_reference) == ("paid", "BANK0001") and a.paid_at is not None
    assert (b.status, b.payout_failure_reason) == ("payout_failed", "户名与账号不符")
    assert c.status == "approved"
    program.refresh_from_db()
    assert (program.reserved, program.paid) == (Decimal("12000.00"), Decimal("6000.00"))
    assert LedgerEntry.objects.filter(kind="pay", claim=a).count() == 1
    assert_budget_clean(program)

    before = _snapshot(program)
    r = _post(finance, batch_id, data)
    assert r.status_code == 200 and r.json()["unchanged"] == 2 and r.json()["paid"] == 0
    assert _snapshot(program) == before

    # The rest of the batch in a second file completes it.
    r = _post(finance, batch_id, results_csv([[c.claim_number, "paid", "BANK0003", ""]]))
    assert r.json()["batch_status"] == "completed"
    assert PayoutBatch.objects.get(pk=batch_id).status == "completed"
    assert_budget_clean(program)
    call_command("check_budget", program.code)

    # The applicant sees the payment.
    lookup = (
        token_client(finance)
        .post(
            "/api/v1/claims/lookup/",
            {"claim_number": a.claim_number, "id_number": a.id_number},
            format="json",
        )
        .json()
    )
    assert lookup["status"] == "paid" and lookup["payment"]["bank_reference"] == "BANK0001"


def test_bad_lines_refuse_the_whole_file(program, finance, finance2):
    (a, b, c), batch_id = _approved_batch(program, finance, finance2)
    other = approved_claims(program, 1)[0]  # not in the batch
    r = _post(finance, batch_id, results_csv([[a.claim_number, "paid", "BANK0001", ""]]))
    assert r.status_code == 200
    before = _snapshot(program)

    data = results_csv(
        [
            [b.claim_number, "paid", "BANK0002", "", "6000.00"],  # fine on its own
            [other.claim_number, "paid", "BANK0009", "", "6000.00"],  # outside the batch
            [a.claim_number, "failed", "", "退票", "6000.00"],  # a paid claim reported failed
            [c.claim_number, "paid", "BANK0003", "", "5000.00"],  # amount differs
        ],
        amount=True,
    )
    r = _post(finance, batch_id, data)
    assert r.status_code == 400
    body = r.json()
    assert body["code"] == "results_refused" and body["message"]
    codes = {(line["line"], line["code"]) for line in body["lines"]}
    assert codes == {(3, "not_in_batch"), (4, "paid_reported_failed"), (5, "amount_mismatch")}
    assert _snapshot(program) == before
    assert payout_of(b).status == "batched"


def test_format_problems_are_reported_per_line(program, finance, finance2):
    (a, b, _c), batch_id = _approved_batch(program, finance, finance2)
    r = _post(finance, batch_id, b"claim_number,result\nX,paid\n")
    assert r.status_code == 400 and r.json()["lines"][0]["code"] == "missing_columns"
    r = _post(
        finance,
        batch_id,
        results_csv(
            [
                [a.claim_number, "ok", "R", ""],
                [b.claim_number, "paid", "", ""],
                [b.claim_number, "paid", "R2", ""],
            ]
        ),
    )
    assert r.status_code == 400
    assert {x["code"] for x in r.json()["lines"]} == {"invalid_result", "missing_bank_reference"}
    r = _post(
        finance,
        batch_id,
        results_csv([[a.claim_number, "paid", "R1", ""], [a.claim_number, "paid", "R1", ""]]),
    )
    assert r.status_code == 400 and r.json()["lines"][0]["code"] == "duplicate_line"
    assert Claim.objects.filter(status="paid").count() == 0


def test_gbk_file_and_changed_reference_refused(program, finance, finance2):
    (a, _b, _c), batch_id = _approved_batch(program, finance, finance2)
    gbk = f"claim_number,result,bank_reference,reason\n{a.claim_number},paid,BANK0001,成功\n".encode(
        "gb18030"
    )
    assert _post(finance, batch_id, gbk).json()["paid"] == 1
    r = _post(finance, batch_id, results_csv([[a.claim_number, "paid", "OTHER", ""]]))
    assert r.status_code == 400 and r.json()["lines"][0]["code"] == "bank_reference_mismatch"


def test_results_need_an_approved_batch_and_finance(program, finance, finance2, auditor):
    claims = approved_claims(program, 1)
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    data = results_csv([[claims[0].claim_number, "paid", "R1", ""]])
    assert _post(finance, batch_id, data).status_code == 409
    r = token_client(auditor).post(
        f"/api/v1/staff/payout-batches/{batch_id}/results/", upload(data), format="multipart"
    )
    assert r.status_code == 403
