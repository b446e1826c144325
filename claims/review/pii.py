"""Who sees a claim's personal data unmasked, and the audit row written for every such display."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils.translation import gettext as _

from claims.accounts.roles import AUDITOR, REVIEWER, has_role
from claims.audit.services import audit_log
from claims.errors import NotFound
from claims.intake.models import DocumentKind
from claims.models import Claim
from claims.review.selectors import claim_for_staff, claim_staff_detail


def can_see_pii(user) -> bool:
    """Reviewers compare ID number and bank card with the documents; other roles see masked values."""
    return has_role(user, REVIEWER)


def pii_display_record(user, claim: Claim, *, fields: Sequence[str], where: str, request=None) -> None:
    """Audit one display of unmasked personal data (ID number, bank account, phone) of a claim."""
    audit_log("pii_view", actor=user, request=request, claim=claim, fields=list(fields), where=where)


# The ID card images show the full ID number, address and photo: reviewers compare them with the claim, auditors
# may inspect them (every display is audited); no other role (finance, clerks, dealers) ever sees them.
ID_CARD_KINDS = frozenset({DocumentKind.ID_CARD_FRONT, DocumentKind.ID_CARD_BACK})


def can_see_document(user, kind: str) -> bool:
    if kind in ID_CARD_KINDS:
        return has_role(user, REVIEWER, AUDITOR)
    return True


def document_view_record(user, document, *, request=None) -> None:
    audit_log(
        "document_view", actor=user, request=request, claim=document.claim, obj=document, kind=document.kind
    )


DOCUMENT_LABELS = dict(DocumentKind.choices)


def claim_staff_view(
    claim_number: str, *, user, request=None, document_url, where: str = "api"
) -> dict[str, Any]:
    """The staff detail of a claim; unmasked PII only for roles that need it, each such display audited."""
    claim = claim_for_staff(claim_number)
    if claim is None:
        raise NotFound("claim_not_found", _("申请不存在"))
    reveal = can_see_pii(user)
    data = claim_staff_detail(claim, reveal=reveal, document_url=document_url)
    if reveal:
        pii_display_record(
            user, claim, fields=["id_number", "phone", "bank_account"], where=where, request=request
        )
    return data
