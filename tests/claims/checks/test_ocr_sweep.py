"""The OCR sweep: the database says what is unread; each document is queued again at most once per period."""

import datetime as dt

import pytest
from django.utils import timezone

from claims.checks import tasks
from claims.checks.models import DocumentReading, ReadingStatus
from claims.models import ClaimDocument
from tests.factories import submit_claim


@pytest.fixture
def queued(monkeypatch) -> list[int]:
    sent: list[int] = []
    monkeypatch.setattr(tasks.ocr_read_document, "delay", sent.append)
    return sent


@pytest.mark.django_db
def test_unread_documents_are_queued_again_once_per_period(program, queued, monkeypatch):
    claim = submit_claim(program)
    docs = list(ClaimDocument.objects.filter(claim=claim).order_by("pk"))
    old = timezone.now() - dt.timedelta(minutes=5)
    ClaimDocument.objects.filter(pk__in=[d.pk for d in docs]).update(uploaded_at=old)

    def reading(doc, status):
        return DocumentReading.objects.create(
            document=doc, kind=doc.kind, file_sha256=doc.sha256, status=status
        )

    # docs[0]: never queued (the broker was down at submission); docs[1]: queued, then its worker was killed;
    # docs[2]: just queued; docs[3] and docs[4]: read.
    reading(docs[1], ReadingStatus.PENDING)
    DocumentReading.objects.filter(document=docs[1]).update(updated_at=old)
    reading(docs[2], ReadingStatus.PENDING)
    reading(docs[3], ReadingStatus.DONE)
    reading(docs[4], ReadingStatus.FAILED)
    queued.clear()
    # A queue holding at least as many messages as there are waiting readings may still hold theirs: only the
    # never-queued document goes out. One message fewer, and some must have been lost: both go out.
    monkeypatch.setattr(tasks, "broker_queue_length", lambda: 1)
    assert tasks.ocr_sweep_unread(older_than_seconds=60) == 1
    assert queued == [docs[0].pk]
    queued.clear()
    monkeypatch.setattr(tasks, "broker_queue_length", lambda: 0)
    assert tasks.ocr_sweep_unread(older_than_seconds=60) == 2
    assert sorted(queued) == [docs[0].pk, docs[1].pk]
    queued.clear()
    assert tasks.ocr_sweep_unread(older_than_seconds=60) == 1  # docs[1] was just queued: not again yet
    assert queued == [docs[0].pk]  # still no reading row: only the worker creates it once it runs


def test_the_queue_length_comes_from_the_broker(settings):
    # The test settings' broker (files) answers; one that cannot be reached answers None (the sweep then queues).
    assert isinstance(tasks.broker_queue_length(), int)
