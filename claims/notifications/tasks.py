"""Sending SMS notifications (Celery): one task per outbox row, a sweep of pending rows, the daily reminders."""

from __future__ import annotations

import logging

from celery import shared_task

from claims.notifications import services as notification_services
from claims.notifications.backends import SmsTransientError

log = logging.getLogger(__name__)

RETRIES = 6


@shared_task(bind=True, name="claims.notifications.send", ignore_result=True, max_retries=RETRIES)
def send_notification(self, notification_id: int) -> str:
    """Send one outbox row (by id; the phone is decrypted at send time). Idempotent: a sent row is skipped."""
    try:
        return notification_services.notification_send(notification_id)
    except SmsTransientError as exc:
        if self.request.retries >= RETRIES:
            return "pending"  # the row stays pending with its back-off; the sweep tries again later
        raise self.retry(
            exc=exc, countdown=min(600, notification_services.RETRY_FIRST_SECONDS * 2**self.request.retries)
        ) from exc


@shared_task(name="claims.notifications.sweep", ignore_result=True)
def sweep_notifications(limit: int = 500) -> int:
    """Re-queue pending messages (the broker was down at commit, or a worker died); bounded per run."""
    queued = notification_services.notifications_sweep(limit)
    if queued:
        log.info("re-queued %d pending notifications", queued)
    return queued


@shared_task(name="claims.notifications.reminders", ignore_result=True)
def send_reminders() -> int:
    """Write today's deadline reminders (each sent by its own task after commit)."""
    return notification_services.reminders_send_due()
