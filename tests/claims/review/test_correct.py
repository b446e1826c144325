"""Corrections of returned claims and expiry of uncorrected ones."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.utils import timezone

from claims.intake.services import claim_submit
from claims.models import AuditLog, Claim, ClaimDocument, ClaimEvent, LedgerEntry
from claims.programs.budget import budget_recompute
from claims.review.services import claim_return
from claims.review.tasks import expire_returned_claims
from tests.factories import claim_payload, document_files, image_bytes, make_program

pytestmark = pytest.mark.django_db


def _submit(program, **overrides):
    payload = claim_payload(program.code, **overrides)
    claim = claim_submit(program.code, payload, document_files()).claim
    return claim, payload


def _return(claim, reviewer, fields=(), documents=(), reason="请更正"):
    return claim_return(
        claim.claim_number, actor=reviewer, reason=reason, fields=list(fields), documents=list(documents)
    )


def _png(kind: str, tag: str = "new"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(f"{kind}.png", image_bytes(f"{kind} {tag}"), content_type="image/png")


def _correct(client, claim, payload, data=None, files=None):
    body = {"id_number": payload["id_number"], **(data or {}), **(files or {})}
    return client.post(f"/api/v1/claims/{claim.claim_number}/correct/", body)


def test_correction_keeps_place_and_replaces_only_named_document(client, program, reviewer):
    claim, payload = _submit(program)
    later, _ = _submit(program)
    _return(claim, reviewer, fields=["plate_number"], documents=["invoice"])
    old_invoice = claim.documents.get(kind="invoice", is_current=True)
    new_plate = "晋JD12345"
    r = _correct(client, claim, payload, {"plate_number": new_plate}, {"invoice": _png("invoice")})
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "under_review"
    claim.refresh_from_db()
    assert claim.status == "under_review" and claim.seq == 1 and later.seq == 2
    assert claim.plate_number == new_plate
    old_invoice.refresh_from_db()
    assert old_invoice.is_current is False and old_invoice.replaced_at
    current = ClaimDocument.objects.filter(claim=claim, is_current=True)
    assert current.count() == 5 and current.get(kind="invoice").pk != old_invoice.pk
    event = ClaimEvent.objects.filter(claim=claim).last()
    assert event.reason_code == "corrected" and event.data["fields"] == ["plate_number"]
    assert event.data["documents"] == ["invoice"]
    assert AuditLog.objects.filter(action="claim_corrected", claim=claim).exists()
    assert budget_recompute(program).ok


def test_correction_reruns_checks(client, program, reviewer, django_capture_on_commit_callbacks):
    claim, payload = _submit(program)
    _return(claim, reviewer, fields=["plate_number"])
    with django_capture_on_commit_callbacks(execute=True):
        r = _correct(client, claim, payload, {"plate_number": "晋J12345"})  # 7 characters: an ordinary plate
    assert r.status_code == 200, r.json()
    check = claim.checks.get(code="plate_matches_fuel_type")
    assert check.result == "fail"  # declared nev, ordinary plate


@pytest.mark.parametrize(
    "data,files,code",
    [
        ({"vin": "LSVAB1230P0000001"}, {}, "field_not_returned"),  # not named
        ({}, {"pos_slip": "pos_slip"}, "field_not_returned"),  # document not named
        ({}, {}, "required"),  # the named document must be replaced
        ({"plate_number": "bad"}, {"invoice": "invoice"}, "invalid_plate"),  # validated like a submission
    ],
)
def test_correction_refusals_write_nothing(client, program, reviewer, data, files, code):
    claim, payload = _submit(program)
    _return(claim, reviewer, fields=["plate_number"], documents=["invoice"])
    events, docs = ClaimEvent.objects.count(), ClaimDocument.objects.count()
    r = _correct(client, claim, payload, data, {k: _png(v) for k, v in files.items()})
    assert r.status_code == 400, r.json()
    assert r.json()["code"] == code
    claim.refresh_from_db()
    assert claim.status == "returned"
    assert ClaimEvent.objects.count() == events and ClaimDocument.objects.count() == docs


def test_correction_only_while_returned_and_by_the_applicant(client, program, reviewer):
    claim, payload = _submit(program)
    r = _correct(client, claim, payload, {"plate_number": "晋JD12345"})
    assert r.status_code == 409 and r.json()["code"] == "not_returned"
    _return(claim, reviewer, fields=["plate_number"])
    r = client.post(
        f"/api/v1/claims/{claim.claim_number}/correct/",
        {"id_number": "11010519491231002X", "plate_number": "晋JD12345"},
    )
    assert r.status_code == 404 and r.json()["code"] == "claim_not_found"


def test_correction_after_deadline_is_refused(client, program, reviewer):
    claim, payload = _submit(program)
    _return(claim, reviewer, fields=["plate_number"])
    Claim.objects.filter(pk=claim.pk).update(correction_deadline=timezone.localdate() - dt.timedelta(days=1))
    r = _correct(client, claim, payload, {"plate_number": "晋JD12345"})
    assert r.status_code == 409 and r.json()["code"] == "correction_deadline_passed"


def test_smaller_subsidy_releases_the_difference_and_promotes(client, reviewer):
    program = make_program("shrink", budget="9000.00")
    claim, payload = _submit(program, invoice_amount="158000.00")  # nev 6000
    waiting, _ = _submit(program, invoice_amount="40000.00")  # nev 3000, does not fit in 3000? it does
    assert waiting.status == "under_review"
    third, _ = _submit(program, invoice_amount="40000.00")  # 3000 more: budget full
    assert third.status == "waitlisted"
    _return(claim, reviewer, fields=["invoice_amount"])
    r = _correct(client, claim, payload, {"invoice_amount": "80000.00"})  # nev 5000
    assert r.status_code == 200, r.json()
    claim.refresh_from_db()
    assert claim.subsidy_amount == Decimal("5000.00") and claim.requested_subsidy_amount is None
    release = LedgerEntry.objects.filter(claim=claim, kind="release").get()
    assert release.amount == Decimal("1000.00")
    program.refresh_from_db()
    assert program.reserved == Decimal("8000.00")  # 5000 + 3000; 1000 left is too little for the 3000 waiting
    third.refresh_from_db()
    assert third.status == "waitlisted"
    assert budget_recompute(program).ok
    call_command("check_budget", program.code)


def test_smaller_subsidy_release_lets_the_waitlist_move(client, reviewer):
    program = make_program("shrink2", budget="9000.00")
    claim, payload = _submit(program, invoice_amount="158000.00")  # 6000
    second, _ = _submit(program, invoice_amount="40000.00")  # 3000: full
    third, _ = _submit(program, invoice_amount="40000.00")  # waitlisted
    _return(claim, reviewer, fields=["invoice_amount"])
    r = _correct(client, claim, payload, {"invoice_amount": "45000.00"})  # 3000: releases 3000
    assert r.status_code == 200, r.json()
    third.refresh_from_db()
    assert third.status == "under_review"
    assert budget_recompute(program).ok


def test_larger_subsidy_takes_the_difference_when_available(client, reviewer):
    program = make_program("grow", budget="20000.00")
    claim, payload = _submit(program, invoice_amount="80000.00")  # 5000
    _return(claim, reviewer, fields=["invoice_amount"])
    r = _correct(client, claim, payload, {"invoice_amount": "250000.00"})  # 7000
    assert r.status_code == 200, r.json()
    claim.refresh_from_db()
    assert claim.subsidy_amount == Decimal("7000.00") and claim.requested_subsidy_amount is None
    assert claim.tier_position == 3
    assert LedgerEntry.objects.filter(claim=claim, kind="reserve").order_by("id").last().amount == Decimal(
        "2000.00"
    )
    program.refresh_from_db()
    assert program.reserved == Decimal("7000.00")
    assert budget_recompute(program).ok


def test_larger_subsidy_never_passes_a_waitlisted_claim(client, reviewer):
    program = make_program("nopass", budget="12000.00")
    claim, payload = _submit(program, invoice_amount="80000.00")  # 5000
    _submit(program, invoice_amount="40000.00")  # 3000 -> 8000 reserved, 4000 left
    waiting, _ = _submit(program, invoice_amount="158000.00")  # 6000 does not fit: waitlisted
    assert waiting.status == "waitlisted"
    _return(claim, reviewer, fields=["invoice_amount"])
    r = _correct(
        client, claim, payload, {"invoice_amount": "158000.00"}
    )  # 6000: +1000 would fit, but someone waits
    assert r.status_code == 200, r.json()
    claim.refresh_from_db()
    assert claim.status == "under_review"
    assert claim.subsidy_amount == Decimal("5000.00")
    assert claim.requested_subsidy_amount == Decimal("6000.00")  # the reviewer's flag
    program.refresh_from_db()
    assert program.reserved == Decimal("8000.00")
    assert budget_recompute(program).ok


def test_larger_subsidy_kept_when_money_is_short(client, reviewer):
    program = make_program("short", budget="5500.00")
    claim, payload = _submit(program, invoice_amount="80000.00")  # 5000
    _return(claim, reviewer, fields=["invoice_amount"])
    r = _correct(client, claim, payload, {"invoice_amount": "158000.00"})  # 6000 > 5500
    assert r.status_code == 200
    claim.refresh_from_db()
    assert claim.subsidy_amount == Decimal("5000.00") and claim.requested_subsidy_amount == Decimal("6000.00")
    assert budget_recompute(program).ok


def test_correcting_the_account_holder_is_checked_against_the_applicant(client, program, reviewer):
    claim, payload = _submit(program)
    _return(claim, reviewer, fields=["account_holder", "bank_account"])
    r = _correct(client, claim, payload, {"account_holder": "李四"})
    assert r.status_code == 400 and r.json()["code"] == "account_holder_mismatch"
    from tests.factories import make_bank_account

    new_account = make_bank_account(987654)
    r = _correct(client, claim, payload, {"bank_account": new_account})
    assert r.status_code == 200, r.json()
    claim.refresh_from_db()
    assert claim.bank_account == new_account and claim.bank_account_masked.endswith(new_account[-4:])


# --- Expiry -----------------------------------------------------------------------------------------------------


def test_expiry_expires_overdue_returned_claims_and_promotes(reviewer):
    program = make_program("expire", budget="6000.00")
    claim, _payload = _submit(program)
    waiting, _ = _submit(program)
    fresh_program = make_program("expire-fresh")
    fresh, _ = _submit(fresh_program)
    _return(claim, reviewer, documents=["invoice"])
    _return(fresh, reviewer, documents=["invoice"])
    claim.refresh_from_db()
    assert claim.correction_deadline == timezone.localdate() + dt.timedelta(days=15)
    Claim.objects.filter(pk=claim.pk).update(correction_deadline=timezone.localdate() - dt.timedelta(days=1))
    assert expire_returned_claims.delay().get() == 1
    claim.refresh_from_db()
    waiting.refresh_from_db()
    fresh.refresh_from_db()
    assert claim.status == "expired" and waiting.status == "under_review" and fresh.status == "returned"
    event = ClaimEvent.objects.filter(claim=claim).last()
    assert event.reason_code == "correction_expired" and event.actor_label == "system"
    assert AuditLog.objects.filter(action="claim_correction_expired", claim=claim).exists()
    assert budget_recompute(program).ok
    assert expire_returned_claims() == 0  # idempotent


def test_expiry_on_the_deadline_day_waits(reviewer, program):
    claim, _payload = _submit(program)
    _return(claim, reviewer, fields=["plate_number"])
    Claim.objects.filter(pk=claim.pk).update(correction_deadline=timezone.localdate())
    assert expire_returned_claims() == 0
    claim.refresh_from_db()
    assert claim.status == "returned"


def test_expiry_is_bounded_per_run(reviewer, program):
    claims = [_submit(program)[0] for _ in range(3)]
    for c in claims:
        _return(c, reviewer, fields=["plate_number"])
    Claim.objects.filter(status="returned").update(
        correction_deadline=timezone.localdate() - dt.timedelta(days=2)
    )
    from claims.review.services import returned_expire_overdue

    assert returned_expire_overdue(limit=2) == 2
    assert Claim.objects.filter(status="returned").count() == 1


def test_beat_schedule_names_registered_tasks():
    from subsidy.celery import app

    app.loader.import_default_modules()
    schedule = app.conf.beat_schedule
    assert schedule["claims-expire-returned"]["task"] == "claims.review.expire_returned"
    assert {"claims-expire-returned", "payouts-sweep", "ocr-sweep-unread"} <= set(schedule)
    for entry in schedule.values():
        assert entry["task"] in app.tasks
