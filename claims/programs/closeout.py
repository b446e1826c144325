"""Closing a program: at the end of its claim window (periodic task) or early by `close_program`.

From the moment a program is closed it takes no claims (`program_not_open`) and every claim still waiting for
money becomes `unfunded`, which is final. Claims already holding money (under review, returned, approved, payout
failed) go on to their decision and payout; money they release later stays unspent, since nobody waits any more.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.audit.services import audit_log
from claims.errors import NotFound
from claims.intake.models import ClaimStatus
from claims.intake.transitions import claim_transition
from claims.models import Claim, Program
from claims.programs.budget import program_lock

log = logging.getLogger(__name__)

UNFUND_BATCH = 500


@dataclass
class CloseResult:
    program: str
    closed_now: bool  # False when the program was already closed (the call only swept its waitlist)
    unfunded: list[str]


def program_close(code: str, *, actor=None, request=None, reason: str = "") -> CloseResult:
    """Close the program now (idempotent) and turn every waitlisted claim into `unfunded`.

    One transaction under the program lock, so no submission or promotion can slip between the close and the
    sweep of the waitlist: a submission waiting for the lock re-checks the program and gets `program_not_open`.
    """
    program_id = Program.objects.filter(code=code).values_list("pk", flat=True).first()
    if program_id is None:
        raise NotFound("program_not_found", _("补贴项目不存在"))
    label = "" if getattr(actor, "pk", None) else "system"
    with transaction.atomic():
        program = program_lock(program_id)
        closed_now = program.closed_at is None
        if closed_now:
            program.closed_at = timezone.now()
            program.save(update_fields=["closed_at", "updated_at"])
        unfunded: list[str] = []
        text = _("补贴活动已结束，候补申请未获补贴")
        while True:
            waiting = list(
                Claim.objects.select_for_update()
                .filter(program=program, status=ClaimStatus.WAITLISTED)
                .order_by("seq")[:UNFUND_BATCH]
            )
            for claim in waiting:
                claim_transition(
                    claim,
                    ClaimStatus.UNFUNDED,
                    program=program,
                    actor=actor,
                    actor_label=label,
                    reason_code="program_closed",
                    reason=text,
                )
                unfunded.append(claim.claim_number)
            if len(waiting) < UNFUND_BATCH:
                break
        if closed_now or unfunded:
            audit_log(
                "program_closed",
                actor=actor,
                request=request,
                obj=program,
                actor_label=label or "system",
                program=program.code,
                closed_at=program.closed_at.isoformat(),
                unfunded=len(unfunded),
                reason=(reason or "")[:500],
            )
    return CloseResult(program=program.code, closed_now=closed_now, unfunded=unfunded)


def programs_due_for_close(today: dt.date | None = None) -> list[str]:
    """Codes of the programs whose claim window has ended but which are not closed yet."""
    today = today or timezone.localdate()
    return list(
        Program.objects.filter(closed_at__isnull=True, claim_window_end__lt=today)
        .order_by("code")
        .values_list("code", flat=True)
    )


def programs_close_due(today: dt.date | None = None) -> dict[str, int]:
    """Close every program past its window; {code: claims made unfunded}. One program's failure stops no other."""
    done: dict[str, int] = {}
    for code in programs_due_for_close(today):
        try:
            done[code] = len(program_close(code).unfunded)
        except Exception:  # retried on the next run
            log.exception("could not close program %s", code)
    return done
