"""Claims in every status, made through the real services and transitions (as reviewers and finance would)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from claims.intake.applicant import claim_withdraw
from claims.intake.services import claim_submit
from claims.models import Claim
from claims.programs.budget import program_lock, waitlist_promote
from tests.factories import claim_payload, document_files

STATES = (
    "under_review",
    "waitlisted",
    "returned",
    "approved",
    "paid",
    "payout_failed",
    "rejected",
    "withdrawn",
)


def submit(program, **overrides) -> tuple[Claim, dict]:
    payload = claim_payload(program.code, **overrides)
    result = claim_submit(program.code, payload, document_files())
    return result.claim, payload


def move(claim: Claim, to_status: str, *, reason: str = "", reason_code: str = "", **fields) -> Claim:
    from claims.intake.transitions import claim_transition

    with transaction.atomic():
        program = program_lock(claim.program_id)
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        for name, value in fields.items():
            setattr(locked, name, value)
        claim_transition(
            locked,
            to_status,
            program=program,
            actor_label="reviewer1",
            reason_code=reason_code,
            reason=reason,
            update_fields=list(fields),
        )
        if to_status == "rejected":
            waitlist_promote(program)
    return locked


def make_claim_in(program, state: str) -> tuple[Claim, dict]:
    """A claim of `program` in `state`, and the payload it was submitted with."""
    if state == "waitlisted":
        # Fill the budget first so this one waits (use a program with a small budget).
        for _attempt in range(5):
            claim, payload = submit(program)
            if claim.status == "waitlisted":
                return claim, payload
        raise AssertionError("the program's budget is too large to make a waitlisted claim")
    claim, payload = submit(program)
    if state == "under_review":
        return claim, payload
    if state == "withdrawn":
        return claim_withdraw(claim.claim_number, payload["id_number"], payload["phone"][-4:]), payload
    if state == "returned":
        return move(
            claim,
            "returned",
            reason="发票照片不清晰，金额看不清",
            reason_code="unreadable_document",
            return_reason="发票照片不清晰，金额看不清",
            return_reason_code="unreadable_document",
            returned_fields=["invoice_amount", "plate_number"],
            returned_documents=["invoice"],
            correction_deadline=timezone.localdate() + dt.timedelta(days=15),
        ), payload
    if state == "rejected":
        return move(
            claim, "rejected", reason="车辆为单位购买，不符合个人消费者条件", reject_reason="单位购车"
        ), payload
    claim = move(claim, "approved", reason="审核通过")
    if state == "approved":
        return claim, payload
    if state == "paid":
        return move(
            claim, "paid", reason="补贴已发放", paid_at=timezone.now(), bank_reference="CCB20240101000123"
        ), payload
    if state == "payout_failed":
        return move(
            claim, "payout_failed", reason="户名与账号不符", payout_failure_reason="户名与账号不符"
        ), payload
    raise ValueError(state)
