"""Publishing the ledger (daily, and after payout results are imported). Idempotent: nothing new, nothing made."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from claims.ledger import services


@shared_task(
    name="claims.ledger.publish",
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def ledger_publish_task(self, program_code: str | None = None) -> int:
    """Publish one program (by code) or every program; returns how many publications were made."""
    if program_code:
        return int(services.ledger_publish(program_code) is not None)
    return len(services.ledger_publish_all())
