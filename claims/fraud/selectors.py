"""Reviewers' view of the fraud signals as clusters: one card, one phone or one picture across claims."""

from __future__ import annotations

from django.db.models import Count

from claims.fraud.models import DocumentFingerprint
from claims.fraud.services import near_duplicates
from claims.intake.models import ACTIVE_STATUSES
from claims.models import Claim, ClaimCheck
from claims.vocabulary import CheckResult

LIMIT = 100


def _claims_by(field: str, values) -> dict[str, list[Claim]]:
    grouped: dict[str, list[Claim]] = {}
    for claim in (
        Claim.objects.filter(**{f"{field}__in": values}, status__in=ACTIVE_STATUSES)
        .select_related("program")
        .order_by("program_id", "seq")
    ):
        grouped.setdefault(getattr(claim, field), []).append(claim)
    return grouped


def shared_clusters(field: str) -> list[list[Claim]]:
    """Active claims sharing one card (`bank_account_hash`) or phone (`phone_hash`) across different applicants."""
    values = list(
        Claim.objects.filter(status__in=ACTIVE_STATUSES)
        .values(field)
        .annotate(applicants=Count("id_number_hash", distinct=True))
        .filter(applicants__gt=1)
        .order_by("-applicants")
        .values_list(field, flat=True)[:LIMIT]
    )
    grouped = _claims_by(field, values)
    return [grouped[v] for v in values if v in grouped]


def image_clusters() -> list[list[Claim]]:
    """Claims joined by near-identical images (connected groups), from the claims whose check failed."""
    flagged = list(
        ClaimCheck.objects.filter(code="document_near_duplicate", result=CheckResult.FAIL).values_list(
            "claim_id", flat=True
        )[: LIMIT * 5]
    )
    parent: dict[int, int] = {}

    def root(x: int) -> int:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for fingerprint in DocumentFingerprint.objects.filter(claim_id__in=flagged, document__is_current=True):
        for other in near_duplicates(fingerprint):
            parent[root(fingerprint.claim_id)] = root(other.claim_id)
    groups: dict[int, list[int]] = {}
    for claim_id in list(parent):
        groups.setdefault(root(claim_id), []).append(claim_id)
    claims = Claim.objects.select_related("program").in_bulk([i for g in groups.values() for i in g])
    clusters = [
        sorted((claims[i] for i in ids if i in claims), key=lambda c: (c.program_id, c.seq))
        for ids in groups.values()
        if len(ids) > 1
    ]
    return sorted(clusters, key=len, reverse=True)[:LIMIT]
