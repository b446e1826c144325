"""The budget: strict first-come-first-served reservation, release, waitlist promotion, recomputation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Max, Min, Q, Sum
from django.utils.translation import gettext as _

from claims.intake.models import RESERVED_STATUSES, ClaimStatus
from claims.intake.transitions import claim_transition
from claims.models import Claim, LedgerEntry, Program
from claims.money import ZERO


def program_lock(program_id: int) -> Program:
    """Lock the program row: every reservation decision of a program is taken under this lock, one at a time."""
    return Program.objects.select_for_update().get(pk=program_id)


def budget_has_waitlist(program: Program) -> bool:
    return Claim.objects.filter(program=program, status=ClaimStatus.WAITLISTED).exists()


def budget_can_reserve(program: Program, amount: Decimal) -> bool:
    """A new claim gets money only if nobody waits ahead of it and the money left covers it (strict arrival order)."""
    return amount <= program.available and not budget_has_waitlist(program)


def waitlist_has_room(program: Program, waiting: int | None = None) -> bool:
    """Whether one more claim may join the waitlist: enabled, and below `waitlist_max_length` when capped."""
    if not program.waitlist_enabled:
        return False
    if program.waitlist_max_length is None:
        return True
    if waiting is None:
        waiting = Claim.objects.filter(program=program, status=ClaimStatus.WAITLISTED).count()
    return waiting < program.waitlist_max_length


def waitlist_promote(program: Program) -> list[Claim]:
    """Promote waitlisted claims in arrival order while the first of them fits. Caller holds the program lock.

    A closed program promotes nobody: its waitlist became `unfunded` when it closed, and money released
    afterwards stays unspent.
    """
    promoted: list[Claim] = []
    if program.closed_at is not None:
        return promoted
    while True:
        batch = list(
            Claim.objects.select_for_update()
            .filter(program=program, status=ClaimStatus.WAITLISTED)
            .order_by("seq")[:100]
        )
        for claim in batch:
            if claim.subsidy_amount > program.available:
                return promoted  # strict FIFO: a later, smaller claim never jumps ahead
            claim_transition(
                claim,
                ClaimStatus.UNDER_REVIEW,
                program=program,
                actor_label="system",
                reason_code="promoted",
                reason=_("预算已释放，申请转入审核"),
            )
            promoted.append(claim)
        if len(batch) < 100:
            return promoted


@dataclass
class BudgetReport:
    program: str
    total: Decimal
    reserved: Decimal
    paid: Decimal
    claims_reserved: Decimal
    claims_paid: Decimal
    ledger_reserved: Decimal
    ledger_paid: Decimal
    ledger_budget: Decimal
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass
class ClaimFigures:
    """What the claims of a program add up to: the money they hold and their numbering."""

    reserved: Decimal = ZERO
    paid: Decimal = ZERO
    count: int = 0
    first_seq: int | None = None
    last_seq: int | None = None

    @property
    def gapless(self) -> bool:
        """Numbered 1..count without a gap: (program, seq) is unique, so `count` distinct numbers from 1 to
        `count` are exactly 1, 2, ..., count."""
        return self.count == 0 or (self.first_seq == 1 and self.last_seq == self.count)


def claim_figures(program: Program) -> ClaimFigures:
    """One pass over the program's claims (an index-only scan of `claim_settlement_cover`)."""
    row = Claim.objects.filter(program=program).aggregate(
        reserved=Sum("subsidy_amount", filter=Q(status__in=RESERVED_STATUSES)),
        paid=Sum("subsidy_amount", filter=Q(status=ClaimStatus.PAID)),
        count=Count("*"),
        first_seq=Min("seq"),
        last_seq=Max("seq"),
    )
    return ClaimFigures(
        reserved=row["reserved"] or ZERO,
        paid=row["paid"] or ZERO,
        count=row["count"],
        first_seq=row["first_seq"],
        last_seq=row["last_seq"],
    )


def budget_recompute(program: Program, *, figures: ClaimFigures | None = None) -> BudgetReport:
    """Recompute the program's figures from the claims and from the ledger; list every difference.

    `figures` are the claims' figures when the caller has just summed them (the settlement does); otherwise
    they are summed here.
    """
    program.refresh_from_db()
    if figures is None:
        figures = claim_figures(program)
    ledger = {kind: ZERO for kind in LedgerEntry.Kind.values}
    for row in (
        LedgerEntry.objects.filter(program=program).values("kind").annotate(s=Sum("amount")).order_by("kind")
    ):
        ledger[row["kind"]] = row["s"]
    last = LedgerEntry.objects.filter(program=program).order_by("-id").first()
    ledger_reserved = ledger["reserve"] - ledger["release"] - ledger["pay"]
    ledger_paid = ledger["pay"]
    report = BudgetReport(
        program=program.code,
        total=program.budget_total,
        reserved=program.reserved,
        paid=program.paid,
        claims_reserved=figures.reserved,
        claims_paid=figures.paid,
        ledger_reserved=ledger_reserved,
        ledger_paid=ledger_paid,
        ledger_budget=last.budget_after if last else ZERO,
    )
    checks = [
        ("reserved", program.reserved, "claims", figures.reserved),
        ("reserved", program.reserved, "ledger", ledger_reserved),
        ("paid", program.paid, "claims", figures.paid),
        ("paid", program.paid, "ledger", ledger_paid),
        ("budget_total", program.budget_total, "ledger", report.ledger_budget),
    ]
    for name, have, source, expected in checks:
        if have != expected:
            report.problems.append(f"{name}: program {have:.2f} != {source} {expected:.2f}")
    if last and (last.reserved_after != program.reserved or last.paid_after != program.paid):
        report.problems.append("last ledger entry does not match the program's figures")
    if program.reserved + program.paid > program.budget_total:
        report.problems.append("overspent: reserved + paid > budget_total")
    if program.reserved < 0 or program.paid < 0:
        report.problems.append("negative figure")
    if not figures.gapless or program.next_seq != figures.count + 1:
        report.problems.append("claim numbers are not gapless")
    return report


@transaction.atomic
def budget_release_and_promote(program_id: int) -> list[Claim]:
    """Run the waitlist after an outside change of the budget (e.g. a raised total)."""
    return waitlist_promote(program_lock(program_id))
