"""Periodic work of programs (celery beat): closing programs whose claim window has ended."""

from __future__ import annotations

import logging

from celery import shared_task

from claims.programs.closeout import programs_close_due

log = logging.getLogger(__name__)


@shared_task(name="claims.programs.close_due", ignore_result=True)
def close_due_programs() -> dict[str, int]:
    """Close every program past the end of its claim window; idempotent (a closed program is skipped)."""
    done = programs_close_due()
    for code, count in done.items():
        log.info("closed program %s: %d waitlisted claims unfunded", code, count)
    return done
