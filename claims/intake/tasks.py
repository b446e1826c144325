"""Celery tasks of intake: the one message a submission sends to the worker for the whole claim, and the periodic
clean-ups (files of submissions interrupted before they committed, staged uploads never used)."""

from __future__ import annotations

import logging

from celery import shared_task

from claims.checks.services import claim_refresh_checks
from claims.checks.tasks import enqueue_claim_ocr
from claims.intake.cleanup import documents_sweep_journal
from claims.intake.uploads import staged_uploads_purge
from claims.notifications.services import claim_notifications_send_pending

logger = logging.getLogger(__name__)

__all__ = ["claim_process_documents", "documents_sweep_journal_task", "uploads_purge_expired"]


@shared_task(name="claims.intake.process_documents", soft_time_limit=120, acks_late=True)
def claim_process_documents(claim_id: int) -> None:
    """Send the applicant's pending messages, refresh the checks that need no OCR, then queue the reading of each
    current document of the claim.

    Idempotent: a message is sent once, a document already read (same file) is not queued again, and the checks
    are a recomputation.
    """
    try:
        claim_notifications_send_pending(claim_id)
    except Exception:  # the rows stay pending: the notification sweep sends them
        logger.exception("messages of claim id %s not sent; left to the sweep", claim_id)
    try:
        claim_refresh_checks(claim_id)
    except Exception:  # the claim is safe; checks are recomputed when OCR finishes
        logger.exception("checks failed for claim id %s", claim_id)
    enqueue_claim_ocr(claim_id)


@shared_task(name="claims.intake.purge_uploads", soft_time_limit=300)
def uploads_purge_expired() -> int:
    """Delete staged uploads not used by a claim within their time, with their files."""
    return staged_uploads_purge()


@shared_task(name="claims.intake.sweep_journal", ignore_result=True)
def documents_sweep_journal_task() -> int:
    return documents_sweep_journal()
