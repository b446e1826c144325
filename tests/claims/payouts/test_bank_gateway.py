"""The HTTP bank gateway against the simulator on 127.0.0.1: every payout booked exactly once."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command

from claims.errors import Conflict, Forbidden
from claims.models import Claim, LedgerEntry, Payout
from claims.payouts.bank_files import batch_file
from claims.payouts.gateway import HttpBankGateway
from claims.payouts.services import batch_approve, batch_create, payout_send, payouts_sweep
from tests.claims.payouts.bank_simulator import BankSimulator
from tests.claims.payouts.payout_helpers import (
    approve,
    approved_batch,
    approved_claims,
    assert_budget_clean,
    payout_of,
)
from tests.factories import make_staff, submit_claim


@pytest.fixture
def bank():
    sim = BankSimulator(delay=0.6).start()
    yield sim
    sim.stop()


@pytest.fixture
def gateway(bank):
    return HttpBankGateway(bank.url, timeout=0.3, max_attempts=4, backoff=0.0, sleep=lambda s: None)


def key(payout) -> str:
    return f"payout-{payout.pk}"


@pytest.mark.parametrize(
    "post_modes,get_modes,posts",
    [
        ([], [], 1),
        (["slow"], [], 1),  # timeout after booking: asks, does not send again
        (["drop_after_book"], [], 1),  # connection dropped after booking
        (["error_500_after_book"], [], 1),
        (["error_500"], [], 2),  # nothing booked: the bank says "unknown key", so it is sent again
        (["drop_before_book"], ["drop"], 2),
        (["pending"], [], 1),
        (["drop_after_book"], ["error_500", "drop"], 1),
    ],
)
def test_booked_exactly_once_under_each_failure(program, bank, gateway, post_modes, get_modes, posts):
    claim = approve(submit_claim(program))
    approved_batch()
    payout = payout_of(claim)
    bank.post_modes.extend(post_modes)
    bank.get_modes.extend(get_modes)
    assert payout_send(payout.pk, gateway) == "paid"
    payout.refresh_from_db(), claim.refresh_from_db()
    assert bank.booked_count[key(payout)] == 1
    assert bank.posts[key(payout)] == posts
    assert payout.bank_reference == bank.bookings[key(payout)]["reference"] == claim.bank_reference
    assert claim.status == "paid"
    assert LedgerEntry.objects.filter(claim=claim, kind="pay").count() == 1
    # A redelivered task changes nothing and sends nothing.
    assert payout_send(payout.pk, gateway) == "paid"
    assert bank.posts[key(payout)] == posts
    assert_budget_clean(program)


def test_after_an_unknown_outcome_it_asks_before_sending_again(program, bank, gateway):
    claim = approve(submit_claim(program))
    approved_batch()
    payout = payout_of(claim)
    bank.post_modes.append("drop_after_book")
    payout_send(payout.pk, gateway)
    assert [m for m, k in bank.log if k == key(payout)] == ["POST", "GET"]


def test_refusal_fails_the_payout(program, bank, gateway):
    claim = approve(submit_claim(program))
    approved_batch()
    bank.refuse_accounts.add(claim.bank_account)
    assert payout_send(payout_of(claim).pk, gateway) == "failed"
    claim.refresh_from_db()
    assert claim.status == "payout_failed" and claim.payout_failure_reason == "户名与账号不符"
    assert not bank.booked_count
    assert_budget_clean(program)


def test_outage_leaves_submitted_then_resumes_without_double_booking(program, bank, gateway):
    claim = approve(submit_claim(program))
    approved_batch()
    payout = payout_of(claim)
    bank.post_modes.append("drop_after_book")
    bank.get_modes.extend(["drop"] * 10)  # status queries fail for the rest of this attempt
    assert payout_send(payout.pk, gateway) == "submitted"
    payout.refresh_from_db(), claim.refresh_from_db()
    assert payout.status == "submitted" and claim.status == "approved"
    # No new batch takes a payout that may already be at the bank.
    with pytest.raises(Conflict) as exc:
        batch_create(make_staff("finance9", "finance"))
    assert exc.value.code == "nothing_to_pay"
    bank.get_modes.clear()
    assert payout_send(payout.pk, gateway) == "paid"  # resumes with a status query
    assert bank.posts[key(payout)] == 1 and bank.booked_count[key(payout)] == 1
    assert_budget_clean(program)


def test_crash_after_marking_submitted_resumes_safely(program, bank, gateway):
    claim = approve(submit_claim(program))
    approved_batch()
    payout = payout_of(claim)
    Payout.objects.filter(pk=payout.pk).update(status="submitted")  # the worker died before the POST
    assert payout_send(payout.pk, gateway) == "paid"
    assert [m for m, k in bank.log if k == key(payout)] == ["GET", "POST"]
    assert bank.booked_count[key(payout)] == 1


def test_random_failures_many_payouts(program, bank, gateway):
    rnd = random.Random(7)
    claims = approved_claims(program, 12)
    approved_batch()
    modes = [
        "ok",
        "slow",
        "drop_after_book",
        "drop_before_book",
        "error_500",
        "error_500_after_book",
        "pending",
    ]
    for claim in claims:
        bank.post_modes.extend(rnd.choice(modes) for _ in range(2))
        bank.get_modes.extend(rnd.choice(["ok", "ok", "drop", "error_500"]) for _ in range(2))
        for _ in range(5):  # the task's retries / the sweep
            if payout_send(payout_of(claim).pk, gateway) == "paid":
                break
        bank.post_modes.clear()
        bank.get_modes.clear()
    assert all(n == 1 for n in bank.booked_count.values())
    assert len(bank.booked_count) == 12
    assert Claim.objects.filter(status="paid").count() == 12
    assert LedgerEntry.objects.filter(kind="pay").count() == 12
    assert_budget_clean(program)
    call_command("check_budget", program.code)


def test_gateway_route_end_to_end_through_tasks(program, bank, settings, django_capture_on_commit_callbacks):
    settings.PAYOUT_GATEWAY_URL = bank.url
    settings.PAYOUT_GATEWAY_TIMEOUT = 0.3
    bank.post_modes.append("drop_after_book")
    claim = submit_claim(program)
    with django_capture_on_commit_callbacks(execute=True):
        approve(claim)  # approval -> create task, inline in tests; nothing is sent
    claim.refresh_from_db()
    assert claim.status == "approved" and payout_of(claim).status == "pending" and not bank.log
    # The sweep sends nothing either: no second person approved a batch.
    assert payouts_sweep().sent == 0 and not bank.log
    maker, checker = make_staff("finance-a", "finance"), make_staff("finance-b", "finance")
    batch = batch_create(maker)
    assert payout_send(payout_of(claim).pk) == "batched" and not bank.log  # created, not yet approved
    with pytest.raises(Forbidden):
        batch_approve(batch.pk, maker)
    with django_capture_on_commit_callbacks(execute=True):
        batch_approve(batch.pk, checker)  # -> send tasks after commit
    claim.refresh_from_db()
    assert claim.status == "paid"
    assert bank.booked_count[key(payout_of(claim))] == 1
    batch.refresh_from_db()
    assert batch.status == "completed"
    with pytest.raises(Conflict) as exc:
        batch_file(batch.pk, "csv", maker)
    assert exc.value.code == "batch_paid_by_gateway"
    # The sweep finds nothing left behind.
    result = payouts_sweep()
    assert (result.created, result.sent, result.rechecked) == (0, 0, 0)
    assert_budget_clean(program)
