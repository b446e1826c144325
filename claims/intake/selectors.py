"""Read side of a claim as its applicant sees it: status history, return details, "my claim"."""

from __future__ import annotations

from typing import Any

from claims.intake.models import ClaimStatus
from claims.intake.queue import claim_queue_position
from claims.models import Claim, ClaimEvent
from claims.money import money_str


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


# Statuses whose reason the applicant must read first: why the claim stopped, or what to do now.
STATUSES_WITH_REASON = (
    ClaimStatus.RETURNED,
    ClaimStatus.REJECTED,
    ClaimStatus.EXPIRED,
    ClaimStatus.UNFUNDED,
    ClaimStatus.PAYOUT_FAILED,
)


def claim_status_reason(claim: Claim, events: list[dict[str, Any]]) -> str:
    """The reason given to the applicant for the claim's current status ("" when it has none to show)."""
    if claim.status not in STATUSES_WITH_REASON:
        return ""
    for event in reversed(events):
        if event["status"] == claim.status:
            return event["reason"]
    return ""


def claim_for_applicant_view(claim: Claim) -> dict[str, Any]:
    events = claim_public_events(claim)
    data: dict[str, Any] = {
        "claim_number": claim.claim_number,
        "program": claim.program.code,
        "status": claim.status,
        "status_display": ClaimStatus(claim.status).label,
        "subsidy_amount": money_str(claim.subsidy_amount),
        "queue_position": claim_queue_position(claim),
        "submitted_at": claim.submitted_at.isoformat(),
        "events": events,
        "status_reason": claim_status_reason(claim, events),
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
