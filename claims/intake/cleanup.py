"""Removing stored files nobody refers to: after a failed submission (even when the database is what failed),
and periodically for submissions that died between storing their files and committing."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from django.db import DatabaseError

from claims.intake.documents import (
    document_discard,
    document_journal_close,
    document_journal_entries,
    document_path,
)
from claims.models import ClaimDocument, StagedUpload

log = logging.getLogger(__name__)

# A journal entry younger than this may belong to a submission still under way.
JOURNAL_GRACE = dt.timedelta(minutes=15)


def referenced(names: list[str]) -> set[str]:
    """The stored files among `names` that a claim document or a staged upload refers to."""
    return set(
        ClaimDocument.objects.filter(storage_name__in=names).values_list("storage_name", flat=True)
    ) | set(StagedUpload.objects.filter(storage_name__in=names).values_list("storage_name", flat=True))


def discard_unreferenced(names: list[str], entry: Path | None = None) -> None:
    """Remove files a failed submission created. When the database cannot say whether a committed row uses one
    (it is often the very failure being cleaned up after), the files are removed all the same: only this call
    created them, and a concurrent submission of the same bytes that committed stores its copy again after commit."""
    try:
        keep = referenced(names) if names else set()
    except DatabaseError as exc:
        log.warning("clean-up of %d stored files without asking the database (%s)", len(names), exc)
        keep = set()
    try:
        for name in names:
            if name not in keep:
                document_discard(name)
    except OSError as exc:  # e.g. a read-only disk: the journal entry stays for the sweep
        log.warning("clean-up of stored files failed (%s); left to the sweep", exc)
        return
    if entry is not None:
        document_journal_close(entry)


def documents_sweep_journal(older_than: dt.timedelta = JOURNAL_GRACE) -> int:
    """Periodic: finish the clean-up of submissions that died between storing their files and committing.

    Deletes the files named by journal entries older than `older_than` that no claim document references; the
    database must answer (otherwise nothing is deleted and the entries wait for the next run). Returns the number
    of files deleted.
    """
    deleted = 0
    for entry, names in document_journal_entries(older_than):
        keep = referenced(names)
        for name in names:
            if name not in keep and document_path(name).exists():
                document_discard(name)
                deleted += 1
        document_journal_close(entry)
    if deleted:
        log.info("removed %d stored files no claim references (interrupted submissions)", deleted)
    return deleted
