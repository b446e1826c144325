"""Program close-out: `full` refuses, closing turns the waitlist into `unfunded`, overdue claims expire."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from claims.intake.applicant import claim_withdraw
from claims.intake.services import claim_submit
from claims.models import AuditLog, Claim, ClaimEvent, Program
from claims.notifications.models import Notification
from claims.programs.closeout import programs_close_due
from claims.programs.selectors import program_public
from claims.review.services import payout_failed_expire_overdue
from claims.review.tasks import expire_payout_failed_claims
from conftest import token_client
from tests.claims.payouts.payout_helpers import approved_claims, assert_budget_clean, results_csv, upload
from tests.factories import claim_payload, document_files, make_program, submit_claim

pytestmark = pytest.mark.django_db

PUBLIC = "/api/v1/claims/"


def _submit_api(client, program):
    return client.post(PUBLIC, {**claim_payload(program.code), **document_files()}, format="multipart")


def test_close_program_makes_the_waitlist_unfunded_and_stops_intake(client):
    program = make_program("close-me", budget="12000.00")  # two claims of 6000 get money, the rest wait
    claims = [submit_claim(program) for _ in range(4)]
    assert [c.status for c in claims] == ["under_review", "under_review", "waitlisted", "waitlisted"]
    out = io.StringIO()
    call_command("close_program", program.code, stdout=out)
    assert "unfunded 2" in out.getvalue()
    statuses = dict(Claim.objects.values_list("claim_number", "status"))
    assert [statuses[c.claim_number] for c in claims] == [
        "under_review",
        "under_review",
        "unfunded",
        "unfunded",
    ]
    event = ClaimEvent.objects.filter(claim=claims[2]).last()
    assert (event.from_status, event.to_status, event.reason_code) == (
        "waitlisted",
        "unfunded",
        "program_closed",
    )
    assert AuditLog.objects.filter(action="program_closed", detail__unfunded=2).count() == 1
    program.refresh_from_db()
    assert program.closed_at is not None and program_public(program)["status"] == "closed"
    assert_budget_clean(program)

    r = client.post(PUBLIC, {**claim_payload(program.code), **document_files()})
    assert r.status_code == 409 and r.json()["code"] == "program_not_open"

    # Closing again changes nothing; money released after the close promotes nobody.
    out = io.StringIO()
    call_command("close_program", program.code, stdout=out)
    assert "already closed" in out.getvalue() and "unfunded 0" in out.getvalue()
    assert AuditLog.objects.filter(action="program_closed").count() == 1

    # Each applicant left unfunded gets its message (written to the outbox with the status change).
    unfunded = Notification.objects.filter(event="unfunded").values_list("claim__claim_number", flat=True)
    assert set(unfunded) >= {claims[2].claim_number, claims[3].claim_number}


def test_the_periodic_task_closes_programs_past_their_window():
    today = timezone.localdate()
    ended = make_program("ended", budget="6000.00")
    running = make_program("running", budget="6000.00")
    submit_claim(ended)
    waiting = submit_claim(ended)
    assert waiting.status == "waitlisted"
    Program.objects.filter(pk=ended.pk).update(claim_window_end=today - dt.timedelta(days=1))
    assert programs_close_due() == {"ended": 1}
    assert programs_close_due() == {}
    waiting.refresh_from_db()
    running.refresh_from_db()
    assert waiting.status == "unfunded" and running.closed_at is None
    assert_budget_clean(ended)


def test_full_program_refuses_with_budget_exhausted(client):
    program = make_program("cap", budget="6000.00", waitlist={"enabled": True, "max_length": 1})
    submit_claim(program)
    program.refresh_from_db()
    assert program_public(program)["status"] == "exhausted"
    assert submit_claim(program).status == "waitlisted"
    program.refresh_from_db()
    assert program_public(program)["status"] == "full"
    r = client.post(PUBLIC, {**claim_payload(program.code), **document_files()})
    assert r.status_code == 409 and r.json()["code"] == "budget_exhausted"
    assert Claim.objects.filter(program=program).count() == 2
    assert_budget_clean(program)


def test_waitlist_disabled_and_money_gone_is_full():
    program = make_program("nowait", budget="6000.00", waitlist={"enabled": False})
    submit_claim(program)
    program.refresh_from_db()
    assert program_public(program)["status"] == "full"


def test_payout_failed_past_payout_fix_days_expires_and_promotes(finance, finance2):
    program = make_program("fix-days", budget="12000.00", payout_fix_days=30)
    failed, other = approved_claims(program, 2)
    waiting = submit_claim(program)
    assert waiting.status == "waitlisted"
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    assert token_client(finance2).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/").status_code == 200
    data = results_csv(
        [[failed.claim_number, "failed", "", "户名不符"], [other.claim_number, "paid", "B1", ""]]
    )
    r = token_client(finance).post(
        f"/api/v1/staff/payout-batches/{batch_id}/results/", upload(data), format="multipart"
    )
    assert r.status_code == 200, r.json()
    failed.refresh_from_db()
    assert failed.status == "payout_failed"
    assert expire_payout_failed_claims() == 0  # not due yet
    # Thirty-one days later nobody has given new bank details.
    later = timezone.localdate() + dt.timedelta(days=31)
    assert payout_failed_expire_overdue(today=timezone.localdate() + dt.timedelta(days=30)) == 0
    assert payout_failed_expire_overdue(today=later) == 1
    failed.refresh_from_db()
    waiting.refresh_from_db()
    assert failed.status == "expired" and waiting.status == "under_review"
    assert ClaimEvent.objects.filter(claim=failed).last().reason_code == "payout_fix_expired"
    assert AuditLog.objects.filter(action="claim_payout_fix_expired", claim=failed).exists()
    program.refresh_from_db()
    assert program.paid == Decimal("6000.00") and program.reserved == Decimal("6000.00")
    assert_budget_clean(program)
    assert payout_failed_expire_overdue(today=later) == 0


def test_release_after_close_promotes_nobody():
    program = make_program("after-close", budget="6000.00")
    payload = claim_payload(program.code)
    first = claim_submit(program.code, payload, document_files()).claim
    submit_claim(program)
    call_command("close_program", program.code, stdout=io.StringIO())
    claim_withdraw(
        first.claim_number, payload["id_number"], payload["phone"][-4:]
    )  # money released after the close
    program.refresh_from_db()
    assert program.reserved == Decimal("0.00") and program.available == Decimal("6000.00")
    assert list(Claim.objects.filter(program=program).order_by("seq").values_list("status", flat=True)) == [
        "withdrawn",
        "unfunded",
    ]
    assert_budget_clean(program)


def test_submission_refused_when_closed_even_inside_the_window():
    program = make_program("early-close")
    call_command("close_program", program.code, stdout=io.StringIO())
    with pytest.raises(Exception) as exc:
        claim_submit(program.code, claim_payload(program.code), document_files())
    assert getattr(exc.value, "code", "") == "program_not_open"
