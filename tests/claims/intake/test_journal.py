"""Files of a failed or interrupted submission never stay on disk without a claim, whatever failed."""

import datetime as dt
from pathlib import Path

import pytest
from django.db import OperationalError

from claims.intake import cleanup
from claims.intake import services as intake
from claims.intake.documents import document_inspect, document_journal_open, document_store
from claims.models import Claim
from tests.factories import claim_payload, document_files, submit_claim


def stored(settings) -> set[str]:
    root = Path(settings.DOCUMENTS_DIR)
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()} if root.exists() else set()


def _down(*args, **kwargs):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db
def test_database_lost_after_storing_removes_the_files_without_asking_it(
    client, program, settings, monkeypatch
):
    monkeypatch.setattr(intake, "program_lock", _down)  # the database dies once the files are stored
    monkeypatch.setattr(cleanup, "referenced", _down)  # and cannot be asked which files are in use
    r = client.post("/api/v1/claims/", {**claim_payload(program.code), **document_files()})
    assert r.status_code == 503 and r.json()["code"] == "service_unavailable" and r["Retry-After"]
    assert stored(settings) == set()  # no document, no journal entry
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_a_file_another_claim_uses_is_kept(program, settings, monkeypatch):
    files = document_files()
    contents = {kind: f.read() for kind, f in files.items()}
    claim = submit_claim(program, files=files)
    kept = set(claim.documents.values_list("storage_name", flat=True))
    monkeypatch.setattr(intake, "program_lock", _down)
    again = {kind: type(f)(f.name, contents[kind], content_type=f.content_type) for kind, f in files.items()}
    with pytest.raises(OperationalError):
        intake.claim_submit(program.code, claim_payload(program.code), again)
    assert (
        stored(settings) == kept
    )  # the same bytes were already stored for the first claim: not created, kept


@pytest.mark.django_db
def test_the_sweep_finishes_an_interrupted_submission(program, settings):
    claim = submit_claim(program)
    in_use = set(claim.documents.values_list("storage_name", flat=True))
    # A web process killed between storing and committing: its journal entry and files stay behind.
    docs = [document_inspect(f, kind) for kind, f in document_files().items()]
    document_journal_open([doc.storage_name for doc in docs] + sorted(in_use))
    for doc in docs:
        document_store(doc)
    assert len(stored(settings)) == len(in_use) + len(docs) + 1
    assert (
        cleanup.documents_sweep_journal(older_than=dt.timedelta(hours=1)) == 0
    )  # too recent: maybe in flight
    assert cleanup.documents_sweep_journal(older_than=dt.timedelta(0)) == len(docs)
    assert stored(settings) == in_use
