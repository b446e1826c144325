"""Read side of payouts: a batch as the finance API shows it."""

from __future__ import annotations

from typing import Any

from claims.models import PayoutBatch
from claims.money import money_str


def batch_summary(batch: PayoutBatch) -> dict[str, Any]:
    return {
        "id": batch.pk,
        "count": batch.count,
        "total": money_str(batch.total),
        "status": batch.status,
        "program": batch.program.code if batch.program_id else None,
        "created_by": batch.created_by.get_username(),
        "created_at": batch.created_at.isoformat(),
        "approved_by": batch.approved_by.get_username() if batch.approved_by_id else None,
        "approved_at": batch.approved_at.isoformat() if batch.approved_at else None,
        "files": {
            "csv": batch.csv_sha256 or None,
            "xlsx": batch.xlsx_sha256 or None,
        },
    }
