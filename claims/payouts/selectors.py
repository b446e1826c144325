"""Read side of payouts: a batch as the finance API shows it."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Prefetch, QuerySet, Sum

from claims.intake.models import ClaimStatus
from claims.models import Payout, PayoutBankFile, PayoutBatch
from claims.money import ZERO, money_str
from claims.payouts.layouts import DEFAULT_LAYOUT
from claims.payouts.models import PayoutStatus


def batches_for_list() -> QuerySet[PayoutBatch]:
    """Batches with what `batch_summary` reads (users, program, default-layout files) in a fixed few queries."""
    return PayoutBatch.objects.select_related("program", "created_by", "approved_by").prefetch_related(
        Prefetch(
            "bank_files",
            queryset=PayoutBankFile.objects.filter(layout=DEFAULT_LAYOUT).only("batch_id", "fmt", "sha256"),
            to_attr="default_files",
        )
    )


def batch_summary(batch: PayoutBatch) -> dict[str, Any]:
    prefetched = getattr(batch, "default_files", None)
    if prefetched is not None:
        files = {f.fmt: f.sha256 for f in prefetched}
    else:
        files = dict(
            PayoutBankFile.objects.filter(batch=batch, layout=DEFAULT_LAYOUT).values_list("fmt", "sha256")
        )
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
        # The SHA-256 of each bank file of the default layout written so far.
        "files": {fmt: files.get(fmt) for fmt in ("csv", "xlsx")},
    }


DETAIL_ROWS = 500


def batch_detail(batch: PayoutBatch) -> dict[str, Any]:
    """A batch's payouts (the first DETAIL_ROWS, with their claims) and its count and total by payout status."""
    payouts = Payout.objects.filter(batch=batch)
    by_status = [
        {"status": PayoutStatus(row["status"]).label, "count": row["n"], "total": row["total"]}
        for row in payouts.values("status").annotate(n=Count("id"), total=Sum("amount")).order_by("status")
    ]
    rows = list(
        payouts.select_related("claim")
        .order_by("id")
        .only(
            "id",
            "status",
            "amount",
            "payee_name",
            "bank_name",
            "bank_account_masked",
            "bank_reference",
            "failure_reason",
            "attempt",
            "claim__claim_number",
            "claim__status",
        )[:DETAIL_ROWS]
    )
    return {"payouts": rows, "by_status": by_status, "more": max(batch.count - len(rows), 0)}


def payouts_waiting() -> dict[str, Any]:
    """What a new batch would take: pending payouts of approved claims that are in no batch yet."""
    totals = Payout.objects.filter(
        status=PayoutStatus.PENDING, batch__isnull=True, claim__status=ClaimStatus.APPROVED
    ).aggregate(n=Count("id"), total=Sum("amount"))
    return {"count": totals["n"] or 0, "total": totals["total"] or ZERO}
