"""Celery tasks: read each current document of a claim after it commits, then refresh the claim's checks.

Tasks take ids only and re-read the database; a reading is keyed on the stored file's SHA-256, so running a task
twice (redelivery, retries, a second enqueue) reads the file once.  Only transient errors (database busy, file
system) are retried, a bounded number of times; OCR itself is bounded by a soft time limit.
"""

from __future__ import annotations

import hashlib
import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import OperationalError, transaction
from django.utils import timezone

from claims.checks.models import DocumentReading, ReadingStatus
from claims.checks.services import claim_refresh_checks
from claims.intake.documents import document_path
from claims.models import ClaimCheck, ClaimDocument
from ocr.reading import read_document

logger = logging.getLogger(__name__)

__all__ = ["enqueue_claim_ocr", "ocr_read_document", "ocr_sweep_unread"]

MAX_RETRIES = 3
SWEEP_LIMIT = 1000
_ENGINE_COUNT = max(1, len(getattr(settings, "OCR_ENGINES", ["rapidocr", "tesseract"])))
SOFT_TIME_LIMIT = int(getattr(settings, "OCR_TIMEOUT_SECONDS", 60)) * _ENGINE_COUNT + 30
HARD_TIME_LIMIT = SOFT_TIME_LIMIT + 30
FINISHED = (ReadingStatus.DONE, ReadingStatus.FAILED, ReadingStatus.ENGINE_MISSING)


class TransientError(Exception):
    """Worth retrying: the database was busy or the file system did not answer."""


def _save_result(reading: DocumentReading, result) -> None:
    reading.status = result.status
    reading.engines = list(result.engines)
    reading.engines_missing = list(result.engines_missing)
    reading.fields = result.fields_json()
    reading.error = result.error[:2000]
    reading.seconds = round(result.seconds, 3)
    reading.timings = {k: round(v, 3) for k, v in result.timings.items()}
    reading.finished_at = timezone.now()
    reading.save()


def _mark(reading: DocumentReading, status: str, error: str) -> None:
    reading.status = status
    reading.error = error
    reading.finished_at = timezone.now()
    reading.save(update_fields=["status", "error", "finished_at", "updated_at"])


def _read_file(document) -> bytes:
    try:
        return document_path(document.storage_name).read_bytes()
    except OSError as exc:
        raise TransientError(f"文件读取失败：{exc}") from exc


def _claim_documents_finished(claim_id: int) -> bool:
    current = ClaimDocument.objects.filter(claim_id=claim_id, is_current=True)
    if not current.exists():
        return True
    finished = DocumentReading.objects.filter(document__in=current, status__in=FINISHED).count()
    return finished == current.count()


def _refresh_when_complete(claim_id: int) -> None:
    """Once every current document of the claim is read (or could not be), recompute the claim's checks."""
    if not _claim_documents_finished(claim_id):
        return

    claim_refresh_checks(claim_id)


def _checks_newer_than(claim_id: int, moment) -> bool:
    """Whether the claim's checks were computed after `moment` (None: unknown, so not)."""
    return moment is not None and ClaimCheck.objects.filter(claim_id=claim_id, updated_at__gt=moment).exists()


def _reuse_previous(reading: DocumentReading) -> bool:
    """The same file already read for another document (a resubmission): copy its result instead of re-reading."""
    previous = (
        DocumentReading.objects.filter(
            file_sha256=reading.file_sha256, kind=reading.kind, status=ReadingStatus.DONE
        )
        .exclude(pk=reading.pk)
        .order_by("-finished_at")
        .first()
    )
    if previous is None:
        return False
    reading.status = ReadingStatus.DONE
    reading.engines = previous.engines
    reading.engines_missing = previous.engines_missing
    reading.fields = previous.fields
    reading.error = ""
    reading.seconds = 0.0
    reading.timings = {"reused_reading": previous.pk}
    reading.finished_at = timezone.now()
    reading.save()
    return True


@shared_task(
    bind=True,
    name="claims.checks.read_document",
    max_retries=MAX_RETRIES,
    soft_time_limit=SOFT_TIME_LIMIT,
    time_limit=HARD_TIME_LIMIT,
    acks_late=True,
)
def ocr_read_document(self, document_id: int) -> str:
    """Read one stored document (by id) and store the result; returns what happened (for logs and tests)."""
    try:
        document = ClaimDocument.objects.filter(pk=document_id).first()
        if document is None:
            return "missing"
        if not document.is_current:
            return "replaced"
        file_hash = document.stored_sha256 or document.sha256
        with transaction.atomic():
            reading, _created = DocumentReading.objects.select_for_update().get_or_create(
                document=document, defaults={"kind": document.kind, "file_sha256": file_hash}
            )
            # Only a pending reading is work: a redelivered or duplicated message (a killed worker, a sweep
            # racing the first message) finds the reading finished and does nothing. Reading again on purpose
            # goes through `enqueue_claim_ocr`, which marks the reading pending first.
            if reading.status in FINISHED and reading.file_sha256 == file_hash:
                done_already = True
            else:
                done_already = False
                reading.file_sha256 = file_hash
                reading.kind = document.kind
                reading.status = ReadingStatus.PENDING
                reading.attempts += 1
                reading.save(update_fields=["file_sha256", "kind", "status", "attempts", "updated_at"])
        if done_already:
            # A duplicate: the checks need recomputing only if no refresh has run since this reading finished
            # (the worker that finished it died before refreshing). Skipping it keeps a backlog of duplicates
            # (a sweep that re-queued readings still waiting in a long queue) from costing a refresh each.
            if not _checks_newer_than(document.claim_id, reading.finished_at):
                _refresh_when_complete(document.claim_id)
            return "already_done"
        if _reuse_previous(reading):
            _refresh_when_complete(document.claim_id)
            return "reused"
        data = _read_file(document)
        if hashlib.sha256(data).hexdigest() != file_hash:
            _mark(reading, ReadingStatus.FAILED, "存储文件与登记的哈希不一致，未识别")
            _refresh_when_complete(document.claim_id)
            return "hash_mismatch"
        result = read_document(document.kind, data, document.content_type)
        _save_result(reading, result)
        _refresh_when_complete(document.claim_id)
        return result.status
    except SoftTimeLimitExceeded:
        DocumentReading.objects.filter(document_id=document_id).update(
            status=ReadingStatus.FAILED, error="识别超时", finished_at=timezone.now()
        )
        _refresh_after_failure(document_id)
        return "timeout"
    except (TransientError, OperationalError) as exc:
        if self.request.retries < MAX_RETRIES:
            raise self.retry(exc=exc, countdown=min(60, 5 * 2**self.request.retries)) from exc
        DocumentReading.objects.filter(document_id=document_id).update(
            status=ReadingStatus.FAILED, error=f"多次重试后仍失败：{exc}"[:2000], finished_at=timezone.now()
        )
        _refresh_after_failure(document_id)
        return "failed"


def _refresh_after_failure(document_id: int) -> None:
    claim_id = ClaimDocument.objects.filter(pk=document_id).values_list("claim_id", flat=True).first()
    if claim_id is not None:
        try:
            _refresh_when_complete(claim_id)
        except Exception:  # the reading is stored; the checks are refreshed by the next event
            logger.exception("refreshing checks of claim %s failed", claim_id)


def enqueue_claim_ocr(claim_id: int) -> None:
    """Queue the reading of every current document of the claim (call inside ``transaction.on_commit``)."""
    queued = 0
    for document in ClaimDocument.objects.filter(claim_id=claim_id, is_current=True).order_by("id"):
        file_hash = document.stored_sha256 or document.sha256
        reading, created = DocumentReading.objects.get_or_create(
            document=document, defaults={"kind": document.kind, "file_sha256": file_hash}
        )
        if not created and reading.status == ReadingStatus.DONE and reading.file_sha256 == file_hash:
            continue
        if not created and reading.status != ReadingStatus.PENDING:
            DocumentReading.objects.filter(pk=reading.pk).update(
                status=ReadingStatus.PENDING, updated_at=timezone.now()
            )
        ocr_read_document.delay(document.pk)
        queued += 1
    if queued == 0:
        _refresh_when_complete(claim_id)


def broker_queue_length() -> int | None:
    """Messages waiting in the default queue (not those a worker has taken); None when the broker can't say."""
    app = ocr_read_document.app
    try:
        with app.connection_for_read() as conn:
            declared = conn.default_channel.queue_declare(queue=app.conf.task_default_queue, passive=True)
            return int(declared.message_count)
    except Exception as exc:  # noqa: BLE001 - an unreachable broker: the sweep behaves as if the queue were empty
        logger.info("queue length unknown: %s", exc)
        return None


def _queue_may_hold(waiting: int) -> bool:
    length = broker_queue_length()
    return length is not None and length >= waiting


@shared_task(name="claims.checks.sweep_unread", soft_time_limit=120)
def ocr_sweep_unread(older_than_seconds: float | None = None, limit: int = SWEEP_LIMIT) -> int:
    """Queue the current documents whose reading was never queued or has waited longer than `older_than_seconds`
    (default OCR_STALE_SECONDS): the broker was down at submission or lost its messages, a worker was killed.

    The database says what is unread. A document is queued again at most once per period (its reading's
    `updated_at` is touched once the message is out), so a long backlog is not multiplied; bounded per run.
    """
    stale = settings.OCR_STALE_SECONDS if older_than_seconds is None else older_than_seconds
    cutoff = timezone.now() - timedelta(seconds=stale)
    never_queued = ClaimDocument.objects.filter(
        is_current=True, uploaded_at__lt=cutoff, ocr_reading__isnull=True
    ).order_by("pk")
    waiting = list(
        DocumentReading.objects.filter(
            status=ReadingStatus.PENDING, updated_at__lt=cutoff, document__is_current=True
        )
        .order_by("updated_at")
        .values_list("document_id", flat=True)[:limit]
    )
    if waiting and _queue_may_hold(len(waiting)):
        # A long queue (launch day: hours of reading) may still hold every one of their messages; queuing them
        # again each period would multiply the backlog. Once the queue holds fewer messages than there are
        # waiting readings, some were lost, and they are all queued again (a duplicate costs one query).
        waiting = []
    ids = sorted(set(never_queued.values_list("pk", flat=True)[:limit]) | set(waiting))[:limit]
    queued: list[int] = []
    try:
        for document_id in ids:
            ocr_read_document.delay(document_id)
            queued.append(document_id)
    finally:
        DocumentReading.objects.filter(document_id__in=queued, status=ReadingStatus.PENDING).update(
            updated_at=timezone.now()
        )
    if queued:
        logger.info("queued %d unread documents again", len(queued))
    return len(queued)
