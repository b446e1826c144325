"""Periodic work of review (celery beat): expiring returned and payout-failed claims past their deadlines."""

from __future__ import annotations

import logging

from celery import shared_task

from claims.review.services import (
    payout_failed_expire_overdue,
    payout_failed_overdue_ids,
    returned_expire_overdue,
    returned_overdue_ids,
)

log = logging.getLogger(__name__)

EXPIRE_BATCH = 500


@shared_task(name="claims.review.expire_returned", ignore_result=True)
def expire_returned_claims(limit: int = EXPIRE_BATCH) -> int:
    """Expire returned claims not corrected by their deadline (money released, waitlist promoted).

    Idempotent (each claim is re-read under its lock) and bounded: at most `limit` claims per run; when the batch
    was full, another run is queued for the rest.
    """

    done = returned_expire_overdue(limit=limit)
    if done >= limit and returned_overdue_ids(limit=1):
        expire_returned_claims.delay(limit)
    if done:
        log.info("expired %d returned claims past their correction deadline", done)
    return done


@shared_task(name="claims.review.expire_payout_failed", ignore_result=True)
def expire_payout_failed_claims(limit: int = EXPIRE_BATCH) -> int:
    """Expire payout-failed claims given no new bank details within `payout_fix_days`; bounded like the above."""
    done = payout_failed_expire_overdue(limit=limit)
    if done >= limit and payout_failed_overdue_ids(limit=1):
        expire_payout_failed_claims.delay(limit)
    if done:
        log.info("expired %d payout-failed claims past their deadline for new bank details", done)
    return done
