"""The public ledger as the API and the public pages show it."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from claims.ledger.models import LedgerPublication
from claims.models import Program
from claims.money import money_str


def publications(program: Program) -> QuerySet[LedgerPublication]:
    return program.publications.defer("content").order_by("seq")


def publication_public(p: LedgerPublication) -> dict:
    return {
        "seq": p.seq,
        "published_at": timezone.localtime(p.published_at).isoformat(),
        "count": p.count,
        "total": money_str(p.total),
        "sha256": p.sha256,
        "prev_sha256": p.prev_sha256,
    }


def publication_file_name(program: Program, seq: int) -> str:
    return f"{program.code}-ledger-{seq}.csv"
