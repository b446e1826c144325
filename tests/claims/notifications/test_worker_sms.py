"""SMS through a real Celery worker: one message per event, also when the task is retried or run twice."""

from __future__ import annotations

import pytest

from claims.models import Notification
from claims.notifications.tasks import send_notification, sweep_notifications
from conftest import token_client, wait_for
from tests.claims.notifications.helpers import outbox_lines
from tests.factories import claim_payload, document_files, make_program, make_staff


@pytest.fixture
def flaky_sms(monkeypatch):
    """The worker started after this fails the first attempt of every message (a busy provider)."""
    monkeypatch.setenv("SMS_BACKEND", "tests.claims.notifications.helpers.FlakyFileBackend")


def _events(number: str) -> list[str]:
    return [x["event"] for x in outbox_lines(claim_number=number)]


@pytest.mark.worker
def test_one_message_per_event_through_the_worker_even_when_run_twice(celery_worker_process, client):
    program = make_program("worker-sms")
    first, second = make_staff("worker-sms-r1", "reviewer"), make_staff("worker-sms-r2", "reviewer")
    payload = claim_payload(program.code)
    r = client.post("/api/v1/claims/", {**payload, **document_files()})
    assert r.status_code == 201, r.json()
    number = r.json()["claim_number"]
    wait_for(lambda: _events(number) == ["under_review"], timeout=60)

    r = token_client(first).post(
        f"/api/v1/staff/claims/{number}/reject/", {"reason_code": "buyer_mismatch"}, format="json"
    )
    assert r.status_code == 200
    r = client.post(
        f"/api/v1/claims/{number}/appeal/", {"id_number": payload["id_number"], "reason": "请复核"}
    )
    assert r.status_code == 200, r.json()
    r = token_client(second).post(
        f"/api/v1/staff/claims/{number}/appeal-decision/", {"decision": "upheld"}, format="json"
    )
    assert r.status_code == 200, r.json()
    expected = ["under_review", "rejected", "appealed", "appeal_upheld"]
    wait_for(lambda: Notification.objects.filter(claim__claim_number=number, status="sent").count() == 4)

    for row in Notification.objects.filter(claim__claim_number=number):  # every task run again, and the sweep
        send_notification.delay(row.pk)
        send_notification.delay(row.pk)
    sweep_notifications.delay()
    marker = make_program("worker-sms-marker")  # a later message shows the worker got past the repeats
    r = client.post("/api/v1/claims/", {**claim_payload(marker.code), **document_files()})
    wait_for(lambda: _events(r.json()["claim_number"]) == ["under_review"], timeout=60)
    assert _events(number) == expected


@pytest.mark.worker
def test_a_retried_task_sends_once(flaky_sms, celery_worker_process, client):
    program = make_program("worker-sms-retry")
    r = client.post("/api/v1/claims/", {**claim_payload(program.code), **document_files()})
    assert r.status_code == 201, r.json()
    number = r.json()["claim_number"]
    row = wait_for(lambda: Notification.objects.filter(claim__claim_number=number, status="sent").first(), 90)
    assert row.attempts == 2  # the first attempt failed, the task's retry sent it
    assert _events(number) == ["under_review"]
