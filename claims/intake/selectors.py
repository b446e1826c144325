"""Read-side queries shared by the API, the pages and the admin."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from claims.intake.models import ClaimStatus
from claims.models import Claim, ClaimEvent, Program
from claims.money import money_str
from claims.programs.budget import claim_queue_position
from claims.programs.services import program_status


def programs_with_waitlist():
    return Program.objects.prefetch_related("tiers").annotate(
        waitlist_count=Count("claims", filter=Q(claims__status=ClaimStatus.WAITLISTED))
    )


def program_budget(program: Program) -> dict[str, str]:
    return {
        "total": money_str(program.budget_total),
        "reserved": money_str(program.reserved),
        "paid": money_str(program.paid),
        "available": money_str(program.available),
    }


def tier_rows(program: Program) -> list[dict[str, Any]]:
    return [
        {
            "above": money_str(t.above),
            "up_to": money_str(t.up_to),
            "amounts": {"fuel": money_str(t.fuel_amount), "nev": money_str(t.nev_amount)},
        }
        for t in sorted(program.tiers.all(), key=lambda t: t.position)
    ]


def program_public(program: Program) -> dict[str, Any]:
    waiting = getattr(program, "waitlist_count", None)
    if waiting is None:
        waiting = program.claims.filter(status=ClaimStatus.WAITLISTED).count()
    return {
        "code": program.code,
        "name": program.name,
        "status": program_status(program, waiting),
        "currency": program.currency,
        "claim_window": {
            "start": program.claim_window_start.isoformat(),
            "end": program.claim_window_end.isoformat(),
        },
        "purchase_window": {
            "start": program.purchase_window_start.isoformat(),
            "end": program.purchase_window_end.isoformat(),
        },
        "min_pos_amount": money_str(program.min_pos_amount),
        "tiers": tier_rows(program),
        "budget": program_budget(program),
        "waitlist_length": waiting,
        "waitlist_enabled": program.waitlist_enabled,
        "dealers": [{"name": d.name, "credit_code": d.credit_code} for d in program.dealers.all()],
        "counter_address": program.counter_address,
    }


def claim_public_events(claim: Claim) -> list[dict[str, Any]]:
    """The status history as the applicant sees it: times, statuses and the reasons given to them."""
    return [
        {
            "at": e.created_at.isoformat(),
            "from_status": e.from_status or None,
            "status": e.to_status,
            "status_display": ClaimStatus(e.to_status).label,
            "reason": e.reason,
        }
        for e in ClaimEvent.objects.filter(claim=claim).order_by("id")
    ]


def claim_returned_info(claim: Claim) -> dict[str, Any]:
    """What a reviewer asked the applicant to correct, and by when."""
    return {
        "reason_code": claim.return_reason_code,
        "reason": claim.return_reason,
        "fields": claim.returned_fields,
        "documents": claim.returned_documents,
        "deadline": claim.correction_deadline.isoformat() if claim.correction_deadline else None,
    }


def claim_for_applicant_view(claim: Claim) -> dict[str, Any]:
    data: dict[str, Any] = {
        "claim_number": claim.claim_number,
        "program": claim.program.code,
        "status": claim.status,
        "status_display": ClaimStatus(claim.status).label,
        "subsidy_amount": money_str(claim.subsidy_amount),
        "queue_position": claim_queue_position(claim),
        "submitted_at": claim.submitted_at.isoformat(),
        "events": claim_public_events(claim),
    }
    if claim.status == ClaimStatus.RETURNED:
        data["returned"] = claim_returned_info(claim)
    if claim.status == ClaimStatus.PAID:
        data["payment"] = {
            "paid_at": claim.paid_at.isoformat() if claim.paid_at else None,
            "bank_reference": claim.bank_reference,
            "bank_account": claim.bank_account_masked,
        }
    if claim.status == ClaimStatus.PAYOUT_FAILED:
        data["payout_failure_reason"] = claim.payout_failure_reason
    return data
