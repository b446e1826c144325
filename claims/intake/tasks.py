"""Periodic work of intake (celery beat): removing the files of submissions interrupted before they committed."""

from __future__ import annotations

from celery import shared_task

from claims.intake.services import documents_sweep_journal


@shared_task(name="claims.intake.sweep_journal", ignore_result=True)
def documents_sweep_journal_task() -> int:
    return documents_sweep_journal()
