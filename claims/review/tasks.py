"""Periodic work of the claims app (celery beat): withdrawing returned claims past their correction deadline."""

from __future__ import annotations

import logging

from celery import shared_task

from claims.review.services import returned_expire_overdue, returned_overdue_ids

log = logging.getLogger(__name__)

EXPIRE_BATCH = 500


@shared_task(name="claims.review.expire_returned", ignore_result=True)
def expire_returned_claims(limit: int = EXPIRE_BATCH) -> int:
    """Withdraw returned claims not corrected by their deadline (money released, waitlist promoted).

    Idempotent (each claim is re-read under its lock) and bounded: at most `limit` claims per run; when the batch
    was full, another run is queued for the rest.
    """

    done = returned_expire_overdue(limit=limit)
    if done >= limit and returned_overdue_ids(limit=1):
        expire_returned_claims.delay(limit)
    if done:
        log.info("withdrew %d returned claims past their correction deadline", done)
    return done
