"""Staged uploads under real concurrency: one upload serves one claim, however many claims name it at once."""

import threading
from concurrent.futures import ThreadPoolExecutor

from django.core.management import call_command
from django.db import connections
from django.test import Client

from claims.models import Claim, StagedUpload
from tests.claims.intake.test_concurrency import live_db  # noqa: F401 - the shared-database fixture
from tests.factories import claim_payload, document_files, make_program


def test_ten_claims_naming_the_same_uploads_at_once_give_one_claim(live_db):  # noqa: F811
    program = make_program("same-upload")
    client = Client()
    ids = {
        f"{kind}_upload": client.post("/api/v1/uploads/", {"kind": kind, "file": f}).json()["upload_id"]
        for kind, f in document_files().items()
    }
    barrier = threading.Barrier(10)

    def submit(_i):
        try:
            barrier.wait(timeout=60)
            r = Client().post(
                "/api/v1/claims/", {**claim_payload(program.code), **ids}, content_type="application/json"
            )
            return r.status_code, r.json().get("code")
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(submit, range(10)))
    assert [s for s, _ in answers].count(201) == 1
    assert {c for s, c in answers if s != 201} <= {"upload_used", "invalid_file"}
    claim = Claim.objects.get()
    assert StagedUpload.objects.filter(claim=claim).count() == 5 and claim.documents.count() == 5
    assert list(Claim.objects.values_list("seq", flat=True)) == [1]  # a refused claim used no number
    call_command("check_budget", program.code)
