"""Helpers for the payout tests: approved claims, batches through the API, results files."""

from __future__ import annotations

import csv
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from claims.intake.transitions import claim_transition
from claims.models import Claim, Payout
from claims.payouts.services import batch_approve, batch_create, payout_enqueue_for_claim
from claims.programs.budget import budget_recompute, program_lock
from tests.factories import make_staff, submit_claim


def approve(claim: Claim, user=None) -> Claim:
    """under_review -> approved as the review service does, then queue the payout after commit (eager in tests)."""
    with transaction.atomic():
        program = program_lock(claim.program_id)
        claim = Claim.objects.select_for_update().get(pk=claim.pk)
        claim_transition(claim, "approved", program=program, actor=user, reason_code="approved", reason="ok")
    payout_enqueue_for_claim(claim.pk)
    claim.refresh_from_db()
    return claim


def approved_claims(program, n: int, **overrides) -> list[Claim]:
    return [approve(submit_claim(program, **overrides)) for _ in range(n)]


def results_csv(rows, *, amount: bool = False, bom: bool = True) -> bytes:
    out = io.StringIO()
    w = csv.writer(out)
    header = ["claim_number", "result", "bank_reference", "reason"] + (["amount"] if amount else [])
    w.writerow(header)
    for row in rows:
        w.writerow(row)
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def upload(data: bytes, name: str = "results.csv") -> dict:
    return {"file": SimpleUploadedFile(name, data, content_type="text/csv")}


def assert_budget_clean(program) -> None:
    report = budget_recompute(program)
    assert report.ok, report.problems


def payout_of(claim: Claim) -> Payout:
    return Payout.objects.filter(claim=claim).order_by("-attempt").first()


def approved_batch(program=None):
    """A batch of every pending payout, created by one finance user and approved by another."""
    maker, checker = make_staff("finance-maker", "finance"), make_staff("finance-checker", "finance")
    batch = batch_create(maker, program_code=program.code if program else None)
    return batch_approve(batch.pk, checker)
