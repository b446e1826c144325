"""Recomputing the checks of the claims a sales-records import may change."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from claims.checks.services import claim_refresh_checks
from claims.dealers.selectors import claims_affected_by_import


@shared_task(
    name="claims.dealers.recheck",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def dealer_sales_recheck_task(self, import_id: int) -> int:
    claim_ids = claims_affected_by_import(import_id)
    for claim_id in claim_ids:
        claim_refresh_checks(claim_id)
    return len(claim_ids)
