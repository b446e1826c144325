"""The one place a claim's status changes: allowed moves, budget effects and the append-only event row."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from claims.errors import Conflict
from claims.intake.models import RESERVED_STATUSES, ClaimStatus
from claims.models import Claim, ClaimEvent, LedgerEntry, Program
from claims.notifications.services import notify_status_change

S = ClaimStatus
ALLOWED: dict[str, frozenset[str]] = {
    "": frozenset({S.UNDER_REVIEW, S.WAITLISTED}),
    S.WAITLISTED: frozenset({S.UNDER_REVIEW, S.WITHDRAWN, S.REJECTED, S.UNFUNDED}),
    S.UNDER_REVIEW: frozenset({S.APPROVED, S.REJECTED, S.RETURNED, S.WITHDRAWN}),
    S.RETURNED: frozenset({S.UNDER_REVIEW, S.WITHDRAWN, S.REJECTED, S.EXPIRED}),
    S.APPROVED: frozenset({S.PAID, S.PAYOUT_FAILED}),
    S.PAYOUT_FAILED: frozenset({S.APPROVED, S.PAID, S.WITHDRAWN, S.EXPIRED}),
    S.REJECTED: frozenset({S.APPEALED}),
    # An upheld appeal goes back to its original place: under review, or waitlisted behind earlier claims.
    S.APPEALED: frozenset({S.UNDER_REVIEW, S.WAITLISTED, S.REJECTED}),
    S.PAID: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.EXPIRED: frozenset(),
    S.UNFUNDED: frozenset(),
}


class TransitionNotAllowed(Conflict):
    def __init__(self, claim: Claim, to_status: str):
        super().__init__(
            "invalid_transition",
            _("申请当前状态为“%(s)s”，不能执行此操作") % {"s": ClaimStatus(claim.status).label},
        )
        self.claim = claim
        self.to_status = to_status


def ledger_move(
    program: Program, kind: str, amount: Decimal, claim: Claim | None = None, note: str = ""
) -> None:
    """Apply one budget movement to a program row the caller has locked, and journal it."""
    if kind == LedgerEntry.Kind.RESERVE:
        program.reserved += amount
    elif kind == LedgerEntry.Kind.RELEASE:
        program.reserved -= amount
    elif kind == LedgerEntry.Kind.PAY:
        program.reserved -= amount
        program.paid += amount
    else:  # pragma: no cover
        raise ValueError(kind)
    if program.reserved < 0 or program.reserved + program.paid > program.budget_total:
        # Never reached when the services are right; the database check constraint is the last line.
        raise RuntimeError(f"budget invariant broken on {program.code}")
    # next_seq too: the caller holds the row's lock, so the in-memory value is current, and a submission that
    # reserves writes its claim number and its money in one UPDATE.
    program.save(update_fields=["reserved", "paid", "next_seq", "updated_at"])
    LedgerEntry.objects.create(
        program=program,
        claim=claim,
        kind=kind,
        amount=amount,
        reserved_after=program.reserved,
        paid_after=program.paid,
        budget_after=program.budget_total,
        note=note,
    )


def claim_transition(
    claim: Claim,
    to_status: str,
    *,
    program: Program | None = None,
    actor=None,
    actor_label: str = "",
    reason_code: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    update_fields: list[str] | None = None,
    queue_notification: bool = True,
) -> ClaimEvent:
    """Move `claim` (a row locked by the caller) to `to_status`.

    When the move takes money in or out of `reserved`, `program` must be the program row locked by the caller
    (lock order everywhere: program, then claim). Saves the claim and writes the event in the caller's
    transaction. `queue_notification=False`: the caller's own after-commit task sends the applicant's message.
    """
    if not transaction.get_connection().in_atomic_block:  # pragma: no cover - programming error
        raise RuntimeError("claim_transition must run inside a transaction")
    from_status = claim.status or ""
    if to_status not in ALLOWED[from_status]:
        raise TransitionNotAllowed(claim, to_status)
    was_reserved = from_status in RESERVED_STATUSES
    will_reserve = to_status in RESERVED_STATUSES
    budget_kind = None
    if to_status == S.PAID:
        budget_kind = LedgerEntry.Kind.PAY
    elif will_reserve and not was_reserved:
        budget_kind = LedgerEntry.Kind.RESERVE
    elif was_reserved and not will_reserve:
        budget_kind = LedgerEntry.Kind.RELEASE
    claim.status = to_status
    if claim.pk is None:
        claim.save()
    else:
        claim.save(update_fields=None if update_fields is None else [*update_fields, "status", "updated_at"])
    if budget_kind is not None:
        if program is None or program.pk != claim.program_id:
            raise RuntimeError("a transition that moves money needs the locked program row")
        ledger_move(
            program, budget_kind, claim.subsidy_amount, claim, note=f"{from_status or 'new'}->{to_status}"
        )
    event = ClaimEvent.objects.create(
        claim=claim,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "pk", None) else None,
        actor_label=actor_label or (getattr(actor, "username", "") or ""),
        reason_code=reason_code,
        reason=reason,
        data=data or {},
    )
    # The applicant's SMS: an outbox row in this same transaction, sent by a task queued after commit.
    notify_status_change(claim, event, queue=queue_notification)
    return event
