"""Celery tasks for payouts. They take ids, re-read the database, are idempotent, and retry only transient errors.

Registered through `claims.tasks`; the schedule is in settings.
"""

from __future__ import annotations

import logging

from celery import shared_task
from django.db import OperationalError

from claims.payouts import bank_files, services
from claims.payouts.gateway import GatewayError

log = logging.getLogger(__name__)

MAX_RETRIES = 5
# Retried only on transient database errors, with backoff.
RETRYING = {
    "bind": True,
    "autoretry_for": (OperationalError,),
    "retry_backoff": True,
    "max_retries": MAX_RETRIES,
    "ignore_result": True,
}


@shared_task(name="claims.payouts.create", **RETRYING)
def payout_create_task(self, claim_id: int) -> None:
    services.payout_create_for_claim(claim_id)


@shared_task(name="claims.payouts.send", **RETRYING)
def payout_send_task(self, payout_id: int) -> str:
    """Send through the bank gateway; an unknown outcome is asked again later (bounded; then the sweep)."""
    try:
        status = services.payout_send(payout_id)
    except GatewayError:
        log.exception(
            "payout %s: the bank refused the request itself; left submitted for a person", payout_id
        )
        return "error"
    if status == "submitted" and self.request.retries < MAX_RETRIES and not self.request.is_eager:
        raise self.retry(countdown=60 * 2**self.request.retries)
    return status


@shared_task(name="claims.payouts.sweep", ignore_result=True)
def payouts_sweep_task() -> dict:
    result = services.payouts_sweep()
    return {"created": result.created, "sent": result.sent, "rechecked": result.rechecked}


@shared_task(name="claims.payouts.purge_bank_files", ignore_result=True)
def bank_files_purge_task() -> dict:
    """The exported bank files past `BANK_FILE_RETENTION_DAYS` are deleted (idempotent)."""
    return bank_files.bank_files_purge_expired().as_dict()
