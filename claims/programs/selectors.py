"""Read side of programs: the public view of a program with its tiers, budget and waitlist."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q

from claims.intake.models import ClaimStatus
from claims.models import Program
from claims.money import money_str
from claims.programs.services import program_status
from claims.vocabulary import FuelType


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
            "amounts": {fuel: money_str(t.amount_for(fuel)) for fuel in FuelType.values},
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
