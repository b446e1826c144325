"""SMS notifications through the public and staff API (tasks inline): outbox rows, once-only sending, retries,
reminders, templates, masking, and the claim-number recovery."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from claims.intake.tasks import claim_process_documents
from claims.models import Claim, Notification
from claims.notifications import services as notify
from claims.notifications import tasks as notification_tasks
from claims.notifications.backends import FileBackend, SmsTransientError
from claims.programs.services import ProgramFileError, program_parse
from claims.review.services import claim_return
from conftest import token_client
from tests.claims.notifications.helpers import FlakyFileBackend, outbox_lines
from tests.factories import (
    claim_payload,
    document_files,
    make_program,
    make_staff,
    program_document,
    submit_claim,
)


def _submit(client, program, **overrides) -> dict:
    payload = claim_payload(program.code, **overrides)
    r = client.post("/api/v1/claims/", {**payload, **document_files()})
    assert r.status_code == 201, r.json()
    return {**r.json(), "id_number": payload["id_number"], "phone": payload["phone"]}


@pytest.mark.django_db(transaction=True)
def test_each_status_change_sends_one_sms_without_full_numbers(client, settings):
    program = make_program("sms-basic", budget="6000.00")
    reviewer = make_staff("sms-reviewer", "reviewer")
    first = _submit(client, program, phone="13912345678")
    second = _submit(client, program)
    assert second["status"] == "waitlisted"

    lines = outbox_lines(claim_number=first["claim_number"])
    assert [(x["event"], x["to"]) for x in lines] == [("under_review", "13912345678")]
    assert set(lines[0]) == {"to", "text", "claim_number", "event", "sent_at"}
    assert first["claim_number"] in lines[0]["text"] and "6000.00" in lines[0]["text"]
    assert [x["event"] for x in outbox_lines(claim_number=second["claim_number"])] == ["waitlisted"]
    assert "第 1 位" in outbox_lines(claim_number=second["claim_number"])[0]["text"]

    staff = token_client(reviewer)
    r = staff.post(f"/api/v1/staff/claims/{first['claim_number']}/approve/", {"note": "ok"}, format="json")
    assert r.status_code == 200, r.json()
    claim = Claim.objects.get(claim_number=first["claim_number"])
    approved = outbox_lines(claim_number=first["claim_number"])[-1]
    assert approved["event"] == "approved"
    assert claim.bank_account_masked[-4:] in approved["text"]
    for line in outbox_lines():
        assert claim.id_number not in line["text"] and claim.bank_account not in line["text"]
    assert Notification.objects.filter(claim=claim, status="sent").count() == 2


@pytest.mark.django_db(transaction=True)
def test_a_reviewer_reason_with_an_id_number_is_masked(client):
    program = make_program("sms-mask")
    reviewer = make_staff("sms-mask-reviewer", "reviewer")
    sent = _submit(client, program)
    r = token_client(reviewer).post(
        f"/api/v1/staff/claims/{sent['claim_number']}/reject/",
        {"reason": f"发票上的身份证号 {sent['id_number']} 与申请人不符"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    rejected = outbox_lines(claim_number=sent["claim_number"])[-1]
    assert rejected["event"] == "rejected"
    assert sent["id_number"] not in rejected["text"]
    assert sent["id_number"][:3] + "*" in rejected["text"]
    deadline = (timezone.localdate() + dt.timedelta(days=15)).isoformat()
    assert deadline in rejected["text"]  # the last day to appeal


@pytest.mark.django_db(transaction=True)
def test_sending_twice_or_after_a_transient_failure_sends_once(client, settings):
    program = make_program("sms-once")
    settings.SMS_BACKEND = "tests.claims.notifications.helpers.FlakyFileBackend"
    sent = _submit(client, program)
    row = Notification.objects.get(claim__claim_number=sent["claim_number"])
    # The claim's message tried first and failed transiently; the row's own task (inline here) sent it.
    assert row.status == "sent" and row.attempts == 2
    assert len(outbox_lines(claim_number=sent["claim_number"])) == 1
    assert notify.notification_send(row.pk, backend=FlakyFileBackend()) == "skipped"
    assert notify.notification_send(row.pk, backend=FileBackend()) == "skipped"
    assert len(outbox_lines(claim_number=sent["claim_number"])) == 1
    row.refresh_from_db()
    assert row.status == "sent" and row.sent_at is not None


@pytest.mark.django_db(transaction=True)
def test_a_new_claim_costs_the_broker_one_message_which_also_sends_its_sms(client, monkeypatch):
    program = make_program("sms-one-message")
    sms_messages = []
    monkeypatch.setattr(notify, "_enqueue", sms_messages.append)
    sent = _submit(client, program)
    assert sms_messages == []  # no message of its own: the claim's message sent it
    row = Notification.objects.get(claim__claim_number=sent["claim_number"])
    assert row.status == "sent"
    assert len(outbox_lines(claim_number=sent["claim_number"])) == 1


@pytest.mark.django_db(transaction=True)
def test_the_sweep_sends_what_the_broker_never_got(client, settings, monkeypatch):
    program = make_program("sms-sweep")

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker down")

    # The broker is down at commit: neither the claim's message (which sends a new claim's SMS) nor a
    # notification's own message gets through.
    monkeypatch.setattr(claim_process_documents, "delay", broker_down)
    monkeypatch.setattr(notification_tasks.send_notification, "delay", broker_down)
    sent = _submit(client, program)
    row = Notification.objects.get(claim__claim_number=sent["claim_number"])
    assert row.status == "pending"
    assert notify.notifications_pending_ids() == []  # too young: its own task may still come
    later = timezone.now() + dt.timedelta(minutes=5)
    assert notify.notifications_pending_ids(now=later) == [row.pk]
    monkeypatch.undo()
    Notification.objects.filter(pk=row.pk).update(created_at=timezone.now() - dt.timedelta(minutes=5))
    assert notify.notifications_sweep() == 1
    assert notify.notifications_sweep() == 0
    assert len(outbox_lines(claim_number=sent["claim_number"])) == 1


def test_transient_failures_back_off_and_give_up_in_the_end(program, monkeypatch):
    claim = submit_claim(program)
    row = Notification.objects.get(claim=claim)
    Notification.objects.filter(pk=row.pk).update(status="pending", sent_at=None, attempts=0)

    class Down:
        def send(self, message):
            raise SmsTransientError("timeout")

    for _ in range(notify.MAX_ATTEMPTS - 1):
        with pytest.raises(SmsTransientError):
            notify.notification_send(row.pk, backend=Down())
    row.refresh_from_db()
    assert row.status == "pending" and row.next_attempt_at > timezone.now()
    with pytest.raises(SmsTransientError):
        notify.notification_send(row.pk, backend=Down())
    row.refresh_from_db()
    assert row.status == "failed" and row.attempts == notify.MAX_ATTEMPTS


@pytest.mark.django_db(transaction=True)
def test_reminder_three_days_before_the_correction_deadline_once(client):
    program = make_program("sms-remind")
    reviewer = make_staff("sms-remind-reviewer", "reviewer")
    sent = _submit(client, program)
    claim_return(sent["claim_number"], actor=reviewer, reason_code="document_unclear", documents=["invoice"])
    claim = Claim.objects.get(claim_number=sent["claim_number"])
    deadline = claim.correction_deadline
    assert notify.reminders_send_due(deadline - dt.timedelta(days=4)) == 0
    assert notify.reminders_send_due(deadline - dt.timedelta(days=3)) == 1
    assert notify.reminders_send_due(deadline - dt.timedelta(days=2)) == 0  # once per deadline
    events = [x["event"] for x in outbox_lines(claim_number=sent["claim_number"])]
    assert events == ["under_review", "returned", "reminder_correction"]
    assert deadline.isoformat() in outbox_lines(claim_number=sent["claim_number"])[-1]["text"]


@pytest.mark.django_db(transaction=True)
def test_a_program_overrides_a_template(client):
    program = make_program(
        "sms-custom", sms_templates={"under_review": "{program}：编号{claim_number}已受理，补贴{amount}元。"}
    )
    sent = _submit(client, program)
    text = outbox_lines(claim_number=sent["claim_number"])[0]["text"]
    assert text == f"{program.name}：编号{sent['claim_number']}已受理，补贴6000.00元。"


@pytest.mark.parametrize(
    "templates, key",
    [
        ({"nope": "x"}, "sms_templates.nope"),
        ({"paid": "{iban}"}, "sms_templates.paid"),
        ({"paid": "{unclosed"}, "sms_templates.paid"),
        ({"paid": ""}, "sms_templates.paid"),
        (["x"], "sms_templates"),
    ],
)
def test_bad_templates_are_refused_at_load(templates, key):
    with pytest.raises(ProgramFileError) as exc:
        program_parse(program_document("sms-bad", sms_templates=templates))
    assert exc.value.field == key


@pytest.mark.django_db(transaction=True)
def test_claim_number_recovery_sends_by_sms_and_answers_the_same(client):
    program = make_program("sms-recover")
    sent = _submit(client, program, phone="13700001111")
    good = client.post(
        "/api/v1/claims/recover/",
        {"id_number": sent["id_number"], "phone": "137 0000 1111"},
        content_type="application/json",
    )
    wrong_phone = client.post(
        "/api/v1/claims/recover/",
        {"id_number": sent["id_number"], "phone": "13700002222"},
        content_type="application/json",
    )
    assert good.status_code == wrong_phone.status_code == 200
    assert good.json() == wrong_phone.json()
    assert sent["claim_number"] not in good.content.decode()
    recovery = [x for x in outbox_lines(claim_number=sent["claim_number"]) if x["event"] == "claim_number"]
    assert len(recovery) == 1 and recovery[0]["to"] == "13700001111"
    assert sent["claim_number"] in recovery[0]["text"]
    # Asking again within the hour sends nothing more.
    client.post("/api/v1/claims/recover/", {"id_number": sent["id_number"], "phone": "13700001111"})
    assert len([x for x in outbox_lines() if x["event"] == "claim_number"]) == 1


def test_claim_number_recovery_validates_and_is_rate_limited(client, db, settings):
    r = client.post(
        "/api/v1/claims/recover/", {"id_number": "123", "phone": ""}, content_type="application/json"
    )
    assert r.status_code == 400
    assert set(r.json()["fields"]) == {"id_number", "phone"}
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "recover": "3/hour"},
    }
    body = {"id_number": "11010519491231002X", "phone": "13800138000"}
    codes = [
        client.post("/api/v1/claims/recover/", body, content_type="application/json").status_code
        for _ in range(3)
    ]  # the refused call above counted too
    assert codes == [200, 200, 429]


@pytest.mark.django_db(transaction=True)
def test_the_outbox_in_the_admin_shows_masked_phones_only(client):
    program = make_program("sms-admin")
    sent = _submit(client, program, phone="13612345678")
    staff = Client()
    staff.force_login(make_staff("sms-admin-reviewer", "reviewer"))
    page = staff.get("/admin/claims/notification/").content.decode()
    assert sent["claim_number"] in page and "136****5678" in page and "13612345678" not in page
    assert staff.get("/admin/claims/appeal/").status_code == 200
