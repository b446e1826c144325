"""Many buyers at once: real threads, each with its own database connection."""

import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, connections
from django.test import Client

from claims.intake.queue import claim_queue_position
from claims.models import Claim
from subsidy.celery import app as celery_app
from tests.factories import claim_payload, document_files, make_program

THREADS = 40  # concurrent connections (PostgreSQL's default limit is 100)


@pytest.fixture(autouse=True)
def _request_path_only(settings, monkeypatch):
    # These tests are about the budget and the queue under concurrency: what the request itself does. Run inline,
    # the worker's part (checks, OCR) and a child process per document would make 200 submissions on two cores a
    # test of SQLite's busy timeout instead. The worker and the parsing limits have tests of their own.
    settings.DOCUMENT_ISOLATION = False
    monkeypatch.setitem(celery_app.conf, "task_always_eager", False)


def _post_all(payloads: list[dict], threads: int = THREADS) -> list:
    """Post every payload from `threads` clients that all start at the same moment."""
    barrier = threading.Barrier(threads)
    chunks = [payloads[i::threads] for i in range(threads)]
    prepared = [[{**p, **document_files()} for p in chunk] for chunk in chunks]

    def worker(items):
        client = Client()
        answers = []
        try:
            barrier.wait(timeout=60)
            for data in items:
                r = client.post("/api/v1/claims/", data)
                answers.append((r.status_code, r.json()))
        finally:
            connections.close_all()
        return answers

    with ThreadPoolExecutor(max_workers=threads) as pool:
        results = list(pool.map(worker, prepared))
    return [answer for chunk in results for answer in chunk]


@pytest.fixture
def live_db(transactional_db):
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(":memory:"):
        pytest.skip("needs a file or server database shared by threads")
    return transactional_db


def test_200_simultaneous_submissions_against_a_budget_for_37(live_db):
    program = make_program("burst", budget=str(Decimal("6000.00") * 37))
    payloads = [claim_payload(program.code, invoice_amount="158000.00", fuel_type="nev") for _ in range(200)]
    answers = _post_all(payloads)
    assert sorted({status for status, _ in answers}) == [201], [a for a in answers if a[0] != 201][:3]
    statuses = [body["status"] for _, body in answers]
    assert statuses.count("under_review") == 37 and statuses.count("waitlisted") == 163
    claims = list(Claim.objects.filter(program=program).order_by("seq"))
    assert [c.seq for c in claims] == list(range(1, 201))  # gapless numbers in decision order
    assert all(c.status == "under_review" for c in claims[:37])
    assert all(c.status == "waitlisted" for c in claims[37:])
    assert [claim_queue_position(c) for c in claims[37:]] == list(range(1, 164))
    program.refresh_from_db()
    assert program.reserved == Decimal("222000.00") and program.available == Decimal("0.00")
    call_command("check_budget", program.code)


def test_same_vin_twenty_times_at_once_gives_one_claim(live_db):
    program = make_program("same-vin")
    first = claim_payload(program.code)
    payloads = [{**claim_payload(program.code), "vin": first["vin"]} for _ in range(20)]
    answers = _post_all(payloads, threads=20)
    codes = sorted(status for status, _ in answers)
    assert codes == [201] + [409] * 19
    assert {body["code"] for status, body in answers if status == 409} == {"duplicate_vehicle"}
    assert Claim.objects.filter(vin=first["vin"]).count() == 1
    call_command("check_budget", program.code)
