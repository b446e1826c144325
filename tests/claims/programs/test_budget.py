"""Strict first come, first served: reservation, waitlist, promotion, and the budget invariant."""

from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from claims.intake.applicant import claim_withdraw
from claims.intake.models import RESERVED_STATUSES
from claims.intake.transitions import claim_transition
from claims.models import Claim, ClaimEvent, Program
from claims.programs.budget import budget_recompute, program_lock, waitlist_promote
from tests.factories import claim_payload, document_files, make_program, submit_claim

pytestmark = pytest.mark.django_db


def move(claim: Claim, to_status: str) -> None:
    with transaction.atomic():
        program = program_lock(claim.program_id)
        locked = Claim.objects.select_for_update().get(pk=claim.pk)
        claim_transition(locked, to_status, program=program, actor_label="test")
        if to_status in ("rejected", "withdrawn"):
            waitlist_promote(program)
    claim.refresh_from_db()


def withdraw(claim: Claim) -> None:
    claim_withdraw(claim.claim_number, claim.id_number, claim.phone[-4:])
    claim.refresh_from_db()


def test_reserve_until_the_money_is_gone_then_waitlist(db):
    program = make_program(budget="15000.00")
    a = submit_claim(program, invoice_amount="158000.00")  # 6000
    b = submit_claim(program, invoice_amount="158000.00")  # 6000
    c = submit_claim(program, invoice_amount="158000.00")  # 6000: does not fit (3000 left)
    d = submit_claim(program, invoice_amount="30000.00")  # 3000 would fit, but c waits ahead of it
    assert [x.status for x in (a, b, c, d)] == ["under_review", "under_review", "waitlisted", "waitlisted"]
    assert [x.claim_number for x in (a, b, c, d)] == [f"{program.claim_prefix}-{i:06d}" for i in range(1, 5)]
    program.refresh_from_db()
    assert program.reserved == Decimal("12000.00") and program.available == Decimal("3000.00")
    from claims.intake.queue import claim_queue_position

    assert claim_queue_position(c) == 1 and claim_queue_position(d) == 2
    # Releasing 6000 promotes c (9000 available, c takes 6000, then d fits in the remaining 3000).
    withdraw(a)
    c.refresh_from_db()
    d.refresh_from_db()
    assert (c.status, d.status) == ("under_review", "under_review")
    program.refresh_from_db()
    assert program.reserved == Decimal("15000.00") and program.available == Decimal("0.00")
    call_command("check_budget", program.code)


def test_a_small_claim_never_passes_a_waitlisted_one(db):
    program = make_program(budget="10000.00")
    submit_claim(program, invoice_amount="158000.00")  # 6000, 4000 left
    big = submit_claim(program, invoice_amount="300000.00")  # 7000: waits
    small = submit_claim(program, invoice_amount="30000.00")  # 3000 fits the money, but must wait behind big
    assert big.status == small.status == "waitlisted"
    # A release too small for the first waiting claim promotes nobody.
    other = make_program("other", budget="100000.00")
    assert other.pk
    reject_me = Claim.objects.get(program=program, seq=1)
    move(reject_me, "rejected")  # 10000 free: big (7000) goes in, then small (3000) too
    big.refresh_from_db()
    small.refresh_from_db()
    assert big.status == small.status == "under_review"
    events = list(ClaimEvent.objects.filter(claim__in=[big, small], to_status="under_review").order_by("id"))
    assert [e.claim_id for e in events] == [big.pk, small.pk]


def test_promotion_stops_at_the_first_claim_that_does_not_fit(db):
    program = make_program(budget="12000.00")
    first = submit_claim(program, invoice_amount="158000.00")  # 6000
    submit_claim(program, invoice_amount="158000.00")  # 6000
    big = submit_claim(program, invoice_amount="300000.00")  # 7000 waits
    small = submit_claim(program, invoice_amount="30000.00")  # 3000 waits
    withdraw(first)  # 6000 free: big does not fit, so small must not jump ahead
    big.refresh_from_db()
    small.refresh_from_db()
    assert big.status == small.status == "waitlisted"
    program.refresh_from_db()
    assert program.available == Decimal("6000.00")
    assert Program.objects.get(pk=program.pk).claims.filter(status="waitlisted").count() == 2


def test_paid_moves_money_from_reserved_to_paid(db):
    program = make_program(budget="12000.00")
    claim = submit_claim(program)
    move(claim, "approved")
    move(claim, "paid")
    program.refresh_from_db()
    assert (program.reserved, program.paid) == (Decimal("0.00"), Decimal("6000.00"))
    assert budget_recompute(program).ok


def test_refused_transitions(db):
    from claims.intake.transitions import TransitionNotAllowed

    program = make_program()
    claim = submit_claim(program)
    move(claim, "rejected")
    for target in ("approved", "under_review", "paid", "withdrawn"):
        with pytest.raises(TransitionNotAllowed):
            move(claim, target)


def test_check_budget_detects_tampering(db, capsys):
    program = make_program()
    submit_claim(program)
    Program.objects.filter(pk=program.pk).update(reserved=Decimal("1.00"))
    with pytest.raises(SystemExit) as info:
        call_command("check_budget", program.code)
    assert info.value.code == 1


def test_recompute_finds_a_gap_or_a_stray_number_in_the_claim_numbers(db):
    program = make_program()
    first, second = submit_claim(program), submit_claim(program)
    report = budget_recompute(program)
    assert report.ok and report.claims_reserved == Decimal("12000.00")
    Claim.objects.filter(pk=second.pk).update(seq=3)  # 1, 3
    assert "claim numbers are not gapless" in budget_recompute(program).problems
    Claim.objects.filter(pk=second.pk).update(seq=2)
    Claim.objects.filter(pk=first.pk).update(seq=0)  # 0, 2: as many numbers, the last one right
    assert "claim numbers are not gapless" in budget_recompute(program).problems
    Claim.objects.filter(pk=first.pk).update(seq=1)
    assert budget_recompute(program).ok
    assert budget_recompute(make_program("empty")).ok  # no claims: nothing to number


def test_database_refuses_overspending(db):
    from django.db import IntegrityError

    program = make_program(budget="1000.00")
    with pytest.raises(IntegrityError), transaction.atomic():
        Program.objects.filter(pk=program.pk).update(reserved=Decimal("1000.01"))


ACTIONS = st.lists(
    st.one_of(
        st.tuples(
            st.just("submit"),
            st.sampled_from(["30000.00", "80000.00", "158000.00", "300000.00"]),
            st.sampled_from(["fuel", "nev"]),
        ),
        st.tuples(st.just("withdraw"), st.integers(0, 50), st.none()),
        st.tuples(st.just("reject"), st.integers(0, 50), st.none()),
        st.tuples(st.just("pay"), st.integers(0, 50), st.none()),
    ),
    min_size=1,
    max_size=18,
)


def assert_invariants(program: Program) -> None:
    report = budget_recompute(program)
    assert report.ok, report.problems
    assert program.reserved + program.paid <= program.budget_total
    waiting = list(Claim.objects.filter(program=program, status="waitlisted").order_by("seq"))
    if waiting:
        first = waiting[0]
        # The head of the queue does not fit, or it would have been promoted.
        assert first.subsidy_amount > program.available
        # No claim that arrived after a waiting claim ever held money while that claim waited.
        later_reserved = ClaimEvent.objects.filter(
            claim__program=program, claim__seq__gt=first.seq, to_status="under_review"
        )
        assert not later_reserved.exists()


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(actions=ACTIONS)
def test_budget_invariant_under_random_sequences(actions):
    import uuid

    program = make_program(f"prop-{uuid.uuid4().hex[:8]}", budget="20000.00")
    claims: list[Claim] = []
    for action, arg, fuel in actions:
        if action == "submit":
            claims.append(submit_claim(program, invoice_amount=arg, fuel_type=fuel, files=document_files()))
        elif claims:
            claim = claims[arg % len(claims)]
            claim.refresh_from_db()
            if action == "withdraw" and claim.status in ("waitlisted", "under_review", "returned"):
                withdraw(claim)
            elif action == "reject" and claim.status in ("waitlisted", "under_review"):
                move(claim, "rejected")
            elif action == "pay" and claim.status == "under_review":
                move(claim, "approved")
                move(claim, "paid")
        program.refresh_from_db()
        assert_invariants(program)
    assert Claim.objects.filter(program=program).count() == sum(1 for a in actions if a[0] == "submit")
    in_reserved = Claim.objects.filter(program=program, status__in=RESERVED_STATUSES).count()
    assert in_reserved >= 0


def test_claim_payload_roundtrip_is_valid(program):
    assert claim_payload(program.code)["program"] == program.code


def test_ledger_and_events_are_append_only_in_the_database(db):
    from django.db import IntegrityError, InternalError, connection

    from claims.base import AppendOnlyError
    from claims.models import LedgerEntry

    program = make_program()
    claim = submit_claim(program)
    entry = LedgerEntry.objects.filter(claim=claim).first()
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        ClaimEvent.objects.filter(claim=claim).delete()
    if connection.vendor == "postgresql":
        for sql in ("UPDATE claims_ledgerentry SET amount = 0", "DELETE FROM claims_claimevent"):
            with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
                with connection.cursor() as cursor:
                    cursor.execute(sql)
