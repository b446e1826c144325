"""Notifications: the outbox rows (written in the transaction of the change), their sending, reminders, and the
claim-number recovery.

Exactly once: each message has a unique key (the claim's status event, a reminder's deadline, a recovery's hour),
so writing it twice writes one row; the sender takes the row's lock, skips a row already sent, sends, and marks
it sent in the same transaction. A task is queued after commit; the periodic sweep re-queues whatever is still
pending (a broker that was down, a worker that died), so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from contextlib import nullcontext
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from claims.crypto import pii_hash
from claims.intake.models import Claim, ClaimEvent, ClaimStatus
from claims.intake.queue import claim_queue_position
from claims.money import money_str
from claims.notifications import messages
from claims.notifications import tasks as notification_tasks
from claims.notifications.backends import (
    SmsBackend,
    SmsMessage,
    SmsPermanentError,
    SmsTransientError,
    sms_backend,
)
from claims.notifications.models import Notification, NotificationStatus

log = logging.getLogger(__name__)

S = ClaimStatus
REMINDER_DAYS = 3
SWEEP_GRACE = dt.timedelta(minutes=2)  # a row younger than this is left to the task queued at its commit
MAX_ATTEMPTS = 12
RETRY_FIRST_SECONDS = 5  # the first retry of a message whose first attempt failed


# --- Writing outbox rows ----------------------------------------------------------------------------------------


def _event_name(from_status: str, to_status: str) -> str:
    if from_status == S.APPEALED:
        return messages.EVENT_APPEAL_DISMISSED if to_status == S.REJECTED else messages.EVENT_APPEAL_UPHELD
    if to_status == S.UNDER_REVIEW and from_status == S.WAITLISTED:
        return messages.EVENT_PROMOTED
    if to_status == S.UNDER_REVIEW and from_status == S.RETURNED:
        return messages.EVENT_CORRECTED
    return to_status


def payout_fix_deadline(claim: Claim, failed_at: dt.datetime | None = None) -> dt.date:
    """The last day for new bank details after a refused payment (`payout_fix_days` after the refusal)."""
    if failed_at is None:
        event = ClaimEvent.objects.filter(claim=claim, to_status=S.PAYOUT_FAILED).order_by("-id").first()
        failed_at = event.created_at if event else timezone.now()
    return timezone.localdate(failed_at) + dt.timedelta(days=claim.program.payout_fix_days)


def appeal_deadline(claim: Claim, rejected_at: dt.datetime) -> dt.date:
    """The last day (inclusive) an applicant may appeal a rejection made at `rejected_at`."""
    return timezone.localdate(rejected_at) + dt.timedelta(days=claim.program.appeal_days)


def _params(claim: Claim, *, reason: str = "", deadline: dt.date | None = None) -> dict[str, str]:
    position = claim_queue_position(claim)
    return {
        "program": claim.program.name,
        "claim_number": claim.claim_number,
        "status": str(S(claim.status).label),
        "amount": money_str(claim.subsidy_amount),
        "reason": (reason or "").rstrip("。.；; "),
        "deadline": deadline.isoformat() if deadline else "",
        "position": str(position) if position else "",
        "card_last4": (claim.bank_account_masked or "")[-4:],
    }


def notification_add(
    claim: Claim,
    event: str,
    key: str,
    params: dict[str, str],
    *,
    key_is_new: bool = False,
    queue: bool = True,
) -> Notification | None:
    """Write one outbox row in the caller's transaction and, unless `queue` is False, queue its sending after
    commit (False: the caller's own after-commit message sends it, see `claim_notifications_send_pending`).

    A key already written means the message exists: nothing is added (None). `key_is_new` says the key cannot
    exist yet (it names a row written in this same transaction), which spares the savepoint.
    """
    text = messages.message_render(claim.program.source, event, params)
    row = Notification(claim=claim, key=key[:120], event=event, text=text, params=params)
    try:
        # A savepoint unless the key is new: a duplicate key must not break the caller's transaction.
        with transaction.atomic() if not key_is_new else nullcontext():
            row.save(force_insert=True)
    except IntegrityError:
        if not key_is_new and Notification.objects.filter(key=row.key).exists():
            return None
        raise
    if queue:
        notification_id = row.pk
        transaction.on_commit(lambda: _enqueue(notification_id))
    return row


def _enqueue(notification_id: int, countdown: int | None = None) -> None:
    try:
        notification_tasks.send_notification.apply_async((notification_id,), countdown=countdown)
    except Exception:  # the broker is down: the row stays pending and the sweep sends it
        log.exception("could not queue notification %s; the sweep will send it", notification_id)


def notify_status_change(claim: Claim, event_row: ClaimEvent, *, queue: bool = True) -> Notification | None:
    """The message for one status change; called by the claim transition function in its transaction."""
    event = _event_name(event_row.from_status, event_row.to_status)
    deadline = None
    if event_row.to_status == S.RETURNED:
        deadline = claim.correction_deadline
    elif event_row.to_status == S.PAYOUT_FAILED:
        deadline = payout_fix_deadline(claim, timezone.now())
    elif event == S.REJECTED:
        deadline = appeal_deadline(claim, timezone.now())
    params = _params(claim, reason=event_row.reason, deadline=deadline)
    # The key names the event row this transaction just wrote, so no other row can hold it.
    key = f"{claim.pk}:status:{event_row.pk}"
    return notification_add(claim, event, key, params, key_is_new=True, queue=queue)


# --- Reminders --------------------------------------------------------------------------------------------------


def _reminder(claim: Claim, event: str, deadline: dt.date, today: dt.date, since: dt.date | None) -> bool:
    """One reminder per claim and deadline, in the 3 days before it, unless the deadline was that close already
    when the claim got it (the status message then told the date)."""
    first_day = deadline - dt.timedelta(days=REMINDER_DAYS)
    if not first_day <= today < deadline or (since is not None and since >= first_day):
        return False
    with transaction.atomic():
        claim = Claim.objects.select_for_update().select_related("program").get(pk=claim.pk)
        key = f"{claim.pk}:{event}:{deadline.isoformat()}"
        return notification_add(claim, event, key, _params(claim, deadline=deadline)) is not None


def reminders_send_due(today: dt.date | None = None, limit: int = 1000) -> int:
    """Write the reminders due today (corrections and bank details); bounded, idempotent. The number written."""
    today = today or timezone.localdate()
    written = 0
    horizon = today + dt.timedelta(days=REMINDER_DAYS)
    returned = (
        Claim.objects.select_related("program")
        .filter(status=S.RETURNED, correction_deadline__gt=today, correction_deadline__lte=horizon)
        .order_by("id")[:limit]
    )
    for claim in returned:
        since = timezone.localdate(claim.decided_at) if claim.decided_at else None
        written += _reminder(
            claim, messages.EVENT_REMINDER_CORRECTION, claim.correction_deadline, today, since
        )
    for claim in (
        Claim.objects.select_related("program").filter(status=S.PAYOUT_FAILED).order_by("id")[:limit]
    ):
        event = ClaimEvent.objects.filter(claim=claim, to_status=S.PAYOUT_FAILED).order_by("-id").first()
        failed_at = event.created_at if event else claim.updated_at
        deadline = payout_fix_deadline(claim, failed_at)
        since = timezone.localdate(failed_at)
        written += _reminder(claim, messages.EVENT_REMINDER_BANK_DETAILS, deadline, today, since)
    return written


# --- Claim-number recovery ---------------------------------------------------------------------------------------

RECOVERY_MAX_CLAIMS = 5


def claim_number_recover(id_number: str, phone: str) -> int:
    """Send each claim whose applicant has this ID number AND this phone its number by SMS to that phone.

    The caller answers the same whether or not anything matched. At most one message per claim per hour (its
    key), so repeating the request sends nothing more. Returns the number of messages written (for tests/logs).
    """
    id_hash, phone_hash = pii_hash(id_number or ""), pii_hash(phone or "")
    written = 0
    hour = timezone.localtime().strftime("%Y%m%d%H")
    candidates = (
        Claim.objects.select_related("program")
        .filter(id_number_hash=id_hash)
        .order_by("-id")[:RECOVERY_MAX_CLAIMS]
    )
    for claim in candidates:
        if not hmac.compare_digest(claim.phone_hash, phone_hash):
            continue
        with transaction.atomic():
            params = _params(claim)
            key = f"{claim.pk}:{messages.EVENT_CLAIM_NUMBER}:{hour}"
            written += notification_add(claim, messages.EVENT_CLAIM_NUMBER, key, params) is not None
    return written


# --- Sending ----------------------------------------------------------------------------------------------------


def notification_send(notification_id: int, backend: SmsBackend | None = None) -> str:
    """Send one outbox row if it is still pending: `sent`, `skipped`, `failed`; raises SmsTransientError to retry.

    The row is taken under its lock (an UPDATE first, which takes the write lock on every database) and marked
    sent in the same transaction as the send, so two senders of one row send it once.
    """
    now = timezone.now()
    try:
        with transaction.atomic():
            taken = Notification.objects.filter(pk=notification_id, status=NotificationStatus.PENDING).update(
                attempts=F("attempts") + 1, next_attempt_at=None
            )
            if not taken:
                return "skipped"
            notification = (
                Notification.objects.select_for_update().select_related("claim").get(pk=notification_id)
            )
            claim = notification.claim
            message = SmsMessage(
                to=claim.phone,  # decrypted here, at send time only
                text=notification.text,
                claim_number=claim.claim_number,
                event=notification.event,
                key=notification.key,
                params={k: str(v) for k, v in (notification.params or {}).items()},
            )
            try:
                reference = (backend or sms_backend()).send(message)
            except SmsPermanentError as exc:
                notification.status = NotificationStatus.FAILED
                notification.last_error = str(exc)[:300]
                notification.save(update_fields=["status", "last_error"])
                log.warning("SMS %s to %s refused: %s", notification.key, claim.phone_masked, exc)
                return "failed"
            notification.status = NotificationStatus.SENT
            notification.sent_at = now
            notification.provider_reference = reference or ""
            notification.last_error = ""
            notification.save(update_fields=["status", "sent_at", "provider_reference", "last_error"])
            log.info("SMS %s sent to %s", notification.key, claim.phone_masked)
            return "sent"
    except SmsTransientError as exc:
        _record_transient(notification_id, exc)
        raise


def _record_transient(notification_id: int, exc: Exception) -> None:
    """After a transient failure (its transaction rolled back): count the attempt, back off, or give up."""
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status != NotificationStatus.PENDING:
            return
        notification.attempts += 1
        notification.last_error = str(exc)[:300]
        if notification.attempts >= MAX_ATTEMPTS:
            notification.status = NotificationStatus.FAILED
        else:
            delay = min(3600, 30 * 2 ** min(notification.attempts, 7))
            notification.next_attempt_at = timezone.now() + dt.timedelta(seconds=delay)
        notification.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
    log.warning("SMS %s not sent yet (attempt %d): %s", notification.key, notification.attempts, exc)


def claim_notifications_send_pending(claim_id: int) -> int:
    """Send the claim's pending messages that are due, in order; the number sent. For a task that already runs for
    the claim (the one message of a submission), so a new claim costs the broker one message, not two.

    A transient failure hands the row to its own task, which retries with back-off (and the sweep after that).
    """
    now = timezone.now()
    due = (
        Notification.objects.filter(claim_id=claim_id, status=NotificationStatus.PENDING)
        .exclude(next_attempt_at__gt=now)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    sent = 0
    for notification_id in list(due):
        try:
            sent += notification_send(notification_id) == "sent"
        except SmsTransientError:  # the attempt is recorded; the row's own task goes on from here
            _enqueue(notification_id, countdown=RETRY_FIRST_SECONDS)
    return sent


def notifications_pending_ids(limit: int = 500, now: dt.datetime | None = None) -> list[int]:
    """Pending rows the sweep should (re)queue: older than the grace period and due for another attempt."""
    now = now or timezone.now()
    qs = Notification.objects.filter(status=NotificationStatus.PENDING, created_at__lte=now - SWEEP_GRACE)
    qs = qs.exclude(next_attempt_at__gt=now)
    return list(qs.order_by("id").values_list("pk", flat=True)[:limit])


def notifications_sweep(limit: int = 500) -> int:
    """Queue every pending row that is due; the number queued."""
    ids = notifications_pending_ids(limit)
    for notification_id in ids:
        _enqueue(notification_id)
    return len(ids)


def claim_notifications(claim: Claim) -> list[dict[str, Any]]:
    """The messages of a claim as staff and the applicant may see them (text only; never the phone number)."""
    return [
        {
            "event": n.event,
            "text": n.text,
            "status": n.status,
            "status_display": str(NotificationStatus(n.status).label),
            "created_at": n.created_at.isoformat(),
            "sent_at": n.sent_at.isoformat() if n.sent_at else None,
        }
        for n in Notification.objects.filter(claim=claim).order_by("id")
    ]
