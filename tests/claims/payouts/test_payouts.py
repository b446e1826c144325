"""Payout instructions, the sweep, batches approved by two people, and the bank file."""

from __future__ import annotations

import csv
import hashlib
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from claims.models import AuditLog, Payout, PayoutBankFile
from claims.payouts.services import claims_without_payout, payout_create_for_claim, payouts_sweep
from conftest import token_client
from tests.claims.payouts.payout_helpers import approve, approved_claims, assert_budget_clean, payout_of
from tests.factories import open_claim, submit_claim


def test_approval_creates_one_payout_instruction(program):
    claim = approve(submit_claim(program))
    payouts = list(Payout.objects.filter(claim=claim))
    assert len(payouts) == 1
    p = payouts[0]
    assert (p.status, p.attempt, p.amount) == ("pending", 1, Decimal("6000.00"))
    assert p.bank_account == claim.bank_account and p.bank_account_masked == claim.bank_account_masked
    # The task is idempotent: running it again (redelivery, the sweep) creates nothing new.
    assert payout_create_for_claim(claim.pk).pk == p.pk
    assert Payout.objects.filter(claim=claim).count() == 1
    assert AuditLog.objects.filter(action="payout_created", claim=claim).count() == 1
    assert_budget_clean(program)


def test_review_service_approval_queues_the_payout(program, reviewer, django_capture_on_commit_callbacks):
    from claims.review.services import claim_approve

    claim = submit_claim(program)
    open_claim(reviewer, claim)
    with django_capture_on_commit_callbacks(execute=True):
        claim_approve(claim.claim_number, actor=reviewer, note="ok")
    assert payout_of(claim).status == "pending"


def test_sweep_requeues_payouts_left_behind(program):
    claims = approved_claims(program, 3)
    lost = claims[1]
    Payout.objects.filter(claim=lost).delete()  # as if the message had been lost before the task ran
    assert claims_without_payout() == [lost.pk]
    result = payouts_sweep()
    assert result.created == 1
    assert payout_of(lost).status == "pending"
    assert claims_without_payout() == []
    assert payouts_sweep().created == 0


def test_not_approved_claim_gets_no_payout(program):
    claim = submit_claim(program)
    assert payout_create_for_claim(claim.pk) is None
    assert not Payout.objects.exists()


def test_database_refuses_two_live_or_paid_payouts(program):
    claim = approve(submit_claim(program))
    p = payout_of(claim)
    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(
            claim=claim,
            program=program,
            attempt=2,
            amount=p.amount,
            payee_name="张三",
            bank_name="x",
            bank_account=p.bank_account,
            bank_account_masked=p.bank_account_masked,
        )
    # Even two *paid* payouts with different attempts are impossible.
    Payout.objects.filter(pk=p.pk).update(status="paid", bank_reference="R1")
    with pytest.raises(IntegrityError), transaction.atomic():
        Payout.objects.create(
            claim=claim,
            program=program,
            attempt=2,
            amount=p.amount,
            payee_name="张三",
            bank_name="x",
            bank_account=p.bank_account,
            bank_account_masked=p.bank_account_masked,
            status="paid",
            bank_reference="R2",
        )


def test_batch_four_eyes_and_file(program, finance, finance2, auditor):
    claims = approved_claims(program, 3)
    creator, second = token_client(finance), token_client(finance2)

    assert token_client(auditor).post("/api/v1/staff/payout-batches/").status_code == 403
    r = creator.post("/api/v1/staff/payout-batches/")
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["count"] == 3 and body["total"] == "18000.00"
    batch_id = body["id"]
    assert set(Payout.objects.filter(batch_id=batch_id).values_list("status", flat=True)) == {"batched"}
    # Nothing left to batch: a second batch is refused, not empty.
    r = creator.post("/api/v1/staff/payout-batches/")
    assert r.status_code == 409 and r.json()["code"] == "nothing_to_pay"

    r = creator.get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=csv")
    assert r.status_code == 409 and r.json()["code"] == "batch_not_approved"
    r = creator.post(f"/api/v1/staff/payout-batches/{batch_id}/approve/")
    assert r.status_code == 403 and r.json()["code"] == "batch_creator_cannot_approve"
    assert token_client(auditor).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/").status_code == 403
    r = second.post(f"/api/v1/staff/payout-batches/{batch_id}/approve/")
    assert r.status_code == 200 and r.json()["approved_by"] == "finance2"

    r = creator.get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=csv")
    assert r.status_code == 200
    first = b"".join(r.streaming_content)
    assert first.startswith(b"\xef\xbb\xbf")
    assert r["X-Content-SHA256"] == hashlib.sha256(first).hexdigest()
    rows = list(csv.reader(io.StringIO(first.decode("utf-8-sig"))))
    assert rows[0] == ["claim_number", "payee_name", "account_number", "bank_name", "amount", "purpose"]
    assert [row[0] for row in rows[1:4]] == [c.claim_number for c in claims]
    # The full number, only here, written so a spreadsheet keeps every digit; no totals line by default.
    assert rows[1][2] == f'="{claims[0].bank_account}"'
    assert rows[1][4] == "6000.00"
    assert len(rows) == 4
    again = b"".join(
        creator.get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=csv").streaming_content
    )
    assert again == first

    r = second.get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=xlsx")
    assert r.status_code == 200
    xlsx = b"".join(r.streaming_content)
    wb = load_workbook(io.BytesIO(xlsx), read_only=True)
    values = list(wb.active.iter_rows(values_only=True))
    assert values[0] == ("claim_number", "payee_name", "account_number", "bank_name", "amount", "purpose")
    assert values[1][2] == claims[0].bank_account and isinstance(values[1][2], str)
    assert len(values) == 4
    assert (
        b"".join(second.get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=xlsx").streaming_content)
        == xlsx
    )

    assert (
        token_client(auditor).get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=csv").status_code
        == 403
    )
    assert token_client(auditor).get(f"/api/v1/staff/payout-batches/{batch_id}/").status_code == 200
    assert AuditLog.objects.filter(action="payout_file_exported").count() == 4
    assert AuditLog.objects.filter(action__in=["payout_batch_created", "payout_batch_approved"]).count() == 2
    files = token_client(auditor).get(f"/api/v1/staff/payout-batches/{batch_id}/").json()["files"]
    assert files == {"csv": hashlib.sha256(first).hexdigest(), "xlsx": hashlib.sha256(xlsx).hexdigest()}
    assert_budget_clean(program)
    call_command("check_budget", program.code)


def test_formula_injection_is_neutralised(program, finance, finance2):
    claim = approve(submit_claim(program))
    Payout.objects.filter(claim=claim).update(bank_name='=HYPERLINK("http://x")', payee_name="@SUM(1)")
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    token_client(finance2).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/")
    raw = b"".join(
        token_client(finance)
        .get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=csv")
        .streaming_content
    )
    row = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))[1]
    assert row[1] == "'@SUM(1)" and row[3].startswith("'=")
    xlsx = b"".join(
        token_client(finance)
        .get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=xlsx")
        .streaming_content
    )
    values = list(load_workbook(io.BytesIO(xlsx)).active.iter_rows(values_only=True))
    assert values[1][1] == "'@SUM(1)" and values[1][3].startswith("'=")


def test_stored_file_tampering_is_detected(program, finance, finance2, settings):
    approve(submit_claim(program))
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    token_client(finance2).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/")
    assert (
        token_client(finance).get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=csv").status_code
        == 200
    )
    path = settings.EXPORTS_DIR / "payout-batches" / PayoutBankFile.objects.get(batch_id=batch_id).stored_name
    path.write_bytes(path.read_bytes() + b"x")
    r = token_client(finance).get(f"/api/v1/staff/payout-batches/{batch_id}/file?format=csv")
    assert r.status_code == 500 and r.json()["code"] == "export_file_damaged"


def test_batch_only_takes_approved_claims_not_yet_batched(program, finance, finance2):
    approved_claims(program, 2)
    submit_claim(program)  # under review: not paid out
    first = token_client(finance).post("/api/v1/staff/payout-batches/").json()
    assert first["count"] == 2
    approved_claims(program, 1)
    second = token_client(finance2).post("/api/v1/staff/payout-batches/").json()
    assert second["count"] == 1 and second["total"] == "6000.00"
    # finance2 created the second batch, so finance (not finance2) approves it.
    assert (
        token_client(finance2).post(f"/api/v1/staff/payout-batches/{second['id']}/approve/").status_code
        == 403
    )
    assert (
        token_client(finance).post(f"/api/v1/staff/payout-batches/{second['id']}/approve/").status_code == 200
    )
