"""The budget: strict first-come-first-served reservation, release, waitlist promotion, recomputation."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
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


def waitlist_promote(program: Program) -> list[Claim]:
    """Promote waitlisted claims in arrival order while the first of them fits. Caller holds the program lock."""
    promoted: list[Claim] = []
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


def budget_recompute(program: Program) -> BudgetReport:
    """Recompute the program's figures from the claims and from the ledger; list every difference."""
    program.refresh_from_db()
    sums = {
        "reserved": Claim.objects.filter(program=program, status__in=RESERVED_STATUSES).aggregate(
            s=Sum("subsidy_amount")
        )["s"]
        or ZERO,
        "paid": Claim.objects.filter(program=program, status=ClaimStatus.PAID).aggregate(
            s=Sum("subsidy_amount")
        )["s"]
        or ZERO,
    }
    ledger = {kind: ZERO for kind in LedgerEntry.Kind.values}
    for row in LedgerEntry.objects.filter(program=program).values("kind").annotate(s=Sum("amount")):
        ledger[row["kind"]] = row["s"]
    last = LedgerEntry.objects.filter(program=program).order_by("-id").first()
    ledger_reserved = ledger["reserve"] - ledger["release"] - ledger["pay"]
    ledger_paid = ledger["pay"]
    report = BudgetReport(
        program=program.code,
        total=program.budget_total,
        reserved=program.reserved,
        paid=program.paid,
        claims_reserved=sums["reserved"],
        claims_paid=sums["paid"],
        ledger_reserved=ledger_reserved,
        ledger_paid=ledger_paid,
        ledger_budget=last.budget_after if last else ZERO,
    )
    checks = [
        ("reserved", program.reserved, "claims", sums["reserved"]),
        ("reserved", program.reserved, "ledger", ledger_reserved),
        ("paid", program.paid, "claims", sums["paid"]),
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
    seqs = list(Claim.objects.filter(program=program).order_by("seq").values_list("seq", flat=True))
    if seqs != list(range(1, len(seqs) + 1)) or program.next_seq != len(seqs) + 1:
        report.problems.append("claim numbers are not gapless")
    return report


@transaction.atomic
def budget_release_and_promote(program_id: int) -> list[Claim]:
    """Run the waitlist after an outside change of the budget (e.g. a raised total)."""
    return waitlist_promote(program_lock(program_id))
