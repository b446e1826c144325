"""Read side of review: the staff queue with its filters, one claim as staff see it, the dashboard."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable, Mapping
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from claims.checks.selectors import claim_ocr_summary
from claims.crypto import mask, pii_hashes
from claims.intake.models import ClaimStatus, DocumentKind
from claims.intake.queue import claim_queue_position
from claims.intake.selectors import claim_returned_info
from claims.models import Claim, ClaimCheck, ClaimDocument, ClaimEvent, Program
from claims.money import money_display, money_str
from claims.vocabulary import CHECK_CODES, DECLARED_FIELD_NAMES, MONEY_FIELDS, values_agree

log = logging.getLogger(__name__)

# Which declared value each OCR reading should agree with: (document kind, OCR field) -> declared field.
OCR_TO_DECLARED: dict[tuple[str, str], str] = {
    ("invoice", "invoice_code"): "invoice_code",
    ("invoice", "invoice_number"): "invoice_number",
    ("invoice", "invoice_date"): "invoice_date",
    ("invoice", "buyer_name"): "applicant_name",
    ("invoice", "buyer_id_number"): "id_number",
    ("invoice", "vin"): "vin",
    ("invoice", "amount_figures"): "invoice_amount",
    ("invoice", "seller_credit_code"): "dealer_credit_code",
    ("invoice", "seller_name"): "dealer_name",
    ("id_card_front", "name"): "applicant_name",
    ("id_card_front", "id_number"): "id_number",
    ("vehicle_license", "plate_number"): "plate_number",
    ("vehicle_license", "owner"): "applicant_name",
    ("vehicle_license", "vin"): "vin",
    ("vehicle_license", "issue_date"): "license_issue_date",
    ("pos_slip", "amount"): "pos_amount",
    ("pos_slip", "date"): "pos_date",
}
PII_OCR_FIELDS = frozenset({"id_number", "buyer_id_number"})


# --- The queue -------------------------------------------------------------------------------------------------


def _failed_checks_prefetch() -> Prefetch:
    return Prefetch(
        "checks",
        queryset=ClaimCheck.objects.filter(result=ClaimCheck.Result.FAIL).order_by("id"),
        to_attr="failed_checks",
    )


def staff_claims(filters: Mapping[str, str] | None = None) -> QuerySet[Claim]:
    """Claims in arrival order (program, seq), filtered; the failed checks come prefetched per page.

    Filters: status (comma-separated), fuel_type, tier (1 = lowest tier), failing_check (a check code), dealer
    (credit code), program (code), channel, q (claim number, VIN, plate, or ID number / phone / bank account via
    their keyed hashes).
    """
    filters = filters or {}
    qs = (
        Claim.objects.select_related("program")
        .prefetch_related(_failed_checks_prefetch())
        .order_by("program_id", "seq")
    )
    statuses = [s for s in (filters.get("status") or "").split(",") if s]
    if statuses:
        qs = qs.filter(status__in=statuses)
    if filters.get("fuel_type"):
        qs = qs.filter(fuel_type=filters["fuel_type"])
    if filters.get("tier"):
        try:
            qs = qs.filter(tier_position=int(filters["tier"]) - 1)  # tiers are numbered from 1 on the wire
        except ValueError:
            qs = qs.none()
    if filters.get("failing_check"):
        failing = ClaimCheck.objects.filter(code=filters["failing_check"], result=ClaimCheck.Result.FAIL)
        qs = qs.filter(pk__in=failing.values("claim_id"))
    if filters.get("dealer"):
        qs = qs.filter(dealer_credit_code=filters["dealer"].strip().upper())
    if filters.get("program"):
        qs = qs.filter(program__code=filters["program"])
    if filters.get("channel"):
        qs = qs.filter(channel=filters["channel"])
    if filters.get("q"):
        qs = qs.filter(claim_search_q(filters["q"]))
    return qs


# A full ID number (15 or 18 characters), phone (11 digits) or bank card (12-19 digits): only through POST.
FULL_NUMBER_RE = re.compile(r"\d{11,19}|\d{17}[\dX]")


def compact_number(term: str) -> str:
    return (term or "").strip().upper().replace(" ", "").replace("-", "")


def is_full_number(term: str) -> bool:
    """Whether a search term is a full ID number, phone or bank card number (never put in a URL or a log)."""
    return bool(FULL_NUMBER_RE.fullmatch(compact_number(term)))


def claims_by_full_number(number: str) -> QuerySet[Claim]:
    """Claims whose ID number, phone or bank card is `number`, through the keyed lookup hashes only."""
    hashed = pii_hashes(compact_number(number))
    return staff_claims().filter(
        Q(id_number_hash__in=hashed) | Q(phone_hash__in=hashed) | Q(bank_account_hash__in=hashed)
    )


def claim_search_q(term: str) -> Q:
    """Exact-match search on indexed columns; personal data only through its keyed hash (never decrypted)."""
    term = (term or "").strip()
    if not term:
        return Q()
    upper = term.upper().replace(" ", "")
    hashed = pii_hashes(upper)
    return (
        Q(claim_number=upper)
        | Q(vin=upper)
        | Q(plate_number=upper)
        | Q(plate_number=term)
        | Q(id_number_hash__in=hashed)
        | Q(phone_hash__in=hashed)
        | Q(bank_account_hash__in=hashed)
    )


def claim_list_row(claim: Claim) -> dict[str, Any]:
    failed = getattr(claim, "failed_checks", None)
    if failed is None:
        failed = list(claim.checks.filter(result=ClaimCheck.Result.FAIL))
    return {
        "claim_number": claim.claim_number,
        "program": claim.program.code,
        "seq": claim.seq,
        "status": claim.status,
        "status_display": ClaimStatus(claim.status).label,
        "channel": claim.channel,
        "applicant_name": claim.applicant_name,
        "id_number": claim.id_number_masked,
        "fuel_type": claim.fuel_type,
        "tier": claim.tier_position + 1,
        "subsidy_amount": money_str(claim.subsidy_amount),
        "requested_subsidy_amount": money_str(claim.requested_subsidy_amount),
        "vin": claim.vin,
        "plate_number": claim.plate_number,
        "dealer_credit_code": claim.dealer_credit_code,
        "submitted_at": timezone.localtime(claim.submitted_at).isoformat(),
        "failed_checks": [c.code for c in failed],
    }


# --- One claim -------------------------------------------------------------------------------------------------


def claim_for_staff(claim_number: str) -> Claim | None:
    return (
        Claim.objects.select_related("program", "taken_by", "decided_by")
        .filter(claim_number=(claim_number or "").strip().upper())
        .first()
    )


def claim_ocr(claim: Claim) -> dict[str, Any]:
    """Per current document kind, the OCR fields read, or None while pending."""
    try:
        return claim_ocr_summary(claim)
    except Exception:  # OCR trouble must not hide the claim from its reviewer
        log.exception("OCR summary failed for claim %s", claim.claim_number)
        return {d.kind: None for d in claim.documents.filter(is_current=True)}


def _declared(claim: Claim, reveal: bool) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in DECLARED_FIELD_NAMES:
        value = getattr(claim, name)
        if name == "id_number":
            value = claim.id_number if reveal else claim.id_number_masked
        elif name == "phone":
            value = claim.phone if reveal else claim.phone_masked
        elif name == "bank_account":
            value = claim.bank_account if reveal else claim.bank_account_masked
        elif name in MONEY_FIELDS:
            value = money_str(value)
        elif isinstance(value, dt.date):
            value = value.isoformat()
        values[name] = value
    return values


def _mask_ocr(ocr: dict[str, Any]) -> dict[str, Any]:
    masked: dict[str, Any] = {}
    for kind, fields in ocr.items():
        if not isinstance(fields, dict) or "status" in fields:
            masked[kind] = fields
            continue
        masked[kind] = {}
        for name, reading in fields.items():
            if name in PII_OCR_FIELDS and isinstance(reading, dict) and reading.get("value"):
                reading = {**reading, "value": mask(str(reading["value"]))}
            masked[kind][name] = reading
    return masked


def ocr_comparison(claim: Claim, ocr: dict[str, Any]) -> list[dict[str, Any]]:
    """Each OCR reading beside the declared value it should match; `match` is None when nothing was read."""
    rows = []
    for (kind, ocr_field), declared_field in OCR_TO_DECLARED.items():
        fields = ocr.get(kind)
        if not isinstance(fields, dict) or "status" in fields:
            continue
        reading = fields.get(ocr_field)
        read_value = reading.get("value") if isinstance(reading, dict) else reading
        rows.append(
            {
                "kind": kind,
                "ocr_field": ocr_field,
                "declared_field": declared_field,
                "read": read_value,
                "confident": reading.get("confident") if isinstance(reading, dict) else None,
                "match": values_agree(declared_field, getattr(claim, declared_field), read_value),
            }
        )
    return rows


def claim_staff_detail(
    claim: Claim, *, reveal: bool, document_url: Callable[[ClaimDocument], str]
) -> dict[str, Any]:
    """The staff detail (docs/api.md): declared fields, `ocr`, `checks`, `events`, documents with their links."""
    ocr = claim_ocr(claim)
    documents = list(claim.documents.filter(is_current=True).order_by("kind", "id"))
    data: dict[str, Any] = {
        "claim_number": claim.claim_number,
        "program": claim.program.code,
        "seq": claim.seq,
        "status": claim.status,
        "status_display": ClaimStatus(claim.status).label,
        "channel": claim.channel,
        "taken_by": claim.taken_by.get_username() if claim.taken_by else None,
        "submitted_at": timezone.localtime(claim.submitted_at).isoformat(),
        "decided_at": timezone.localtime(claim.decided_at).isoformat() if claim.decided_at else None,
        "decided_by": claim.decided_by.get_username() if claim.decided_by else None,
        **_declared(claim, reveal),
        "pii_masked": not reveal,
        "tier": claim.tier_position + 1,
        "subsidy_amount": money_str(claim.subsidy_amount),
        "requested_subsidy_amount": money_str(claim.requested_subsidy_amount),
        "queue_position": claim_queue_position(claim),
        "ocr": ocr if reveal else _mask_ocr(ocr),
        "ocr_comparison": _comparison(claim, ocr, reveal),
        "checks": [
            {"code": c.code, "result": c.result, "detail": c.detail}
            for c in _ordered_checks(claim.checks.all())
        ],
        "events": [
            {
                "at": timezone.localtime(e.created_at).isoformat(),
                "from_status": e.from_status or None,
                "status": e.to_status,
                "status_display": ClaimStatus(e.to_status).label,
                "actor": e.actor_label,
                "reason_code": e.reason_code,
                "reason": e.reason,
                "data": e.data,
            }
            for e in ClaimEvent.objects.filter(claim=claim).order_by("id")
        ],
        "documents": [
            {
                "id": d.pk,
                "kind": d.kind,
                "kind_display": DocumentKind(d.kind).label,
                "content_type": d.content_type,
                "size": d.size,
                "uploaded_at": timezone.localtime(d.uploaded_at).isoformat(),
                "url": document_url(d),
            }
            for d in documents
        ],
        "returned": None,
        "reject_reason": claim.reject_reason or None,
    }
    if claim.status == ClaimStatus.RETURNED or claim.return_reason:
        data["returned"] = claim_returned_info(claim)
    return data


def _comparison(claim: Claim, ocr: dict[str, Any], reveal: bool) -> list[dict[str, Any]]:
    rows = ocr_comparison(claim, ocr)  # compared unmasked, shown masked to roles without PII access
    if not reveal:
        for row in rows:
            if row["ocr_field"] in PII_OCR_FIELDS and row["read"]:
                row["read"] = mask(str(row["read"]))
    return rows


def _ordered_checks(checks) -> list[ClaimCheck]:
    order = {code: i for i, code in enumerate(CHECK_CODES)}
    return sorted(checks, key=lambda c: (order.get(c.code, len(order)), c.code))


# --- Dashboard -------------------------------------------------------------------------------------------------


def dashboard_data() -> list[dict[str, Any]]:
    """Per program: the budget, the claims by status, the oldest claim waiting for review. A few queries in all."""
    programs = list(Program.objects.order_by("code"))
    counts: dict[int, dict[str, int]] = {}
    # COUNT(*), not COUNT(id): the (program, status, seq) index alone answers it, without reading the table.
    for row in Claim.objects.values("program_id", "status").annotate(n=Count("*")).order_by():
        counts.setdefault(row["program_id"], {})[row["status"]] = row["n"]
    oldest: dict[int, Claim] = {}
    for program in programs:
        first = (
            Claim.objects.filter(program=program, status=ClaimStatus.UNDER_REVIEW)
            .order_by("seq")
            .only("claim_number", "submitted_at", "program_id", "seq")
        ).first()
        if first:
            oldest[program.pk] = first
    today = timezone.localdate()
    rows = []
    for program in programs:
        by_status = counts.get(program.pk, {})
        first = oldest.get(program.pk)
        rows.append(
            {
                "program": program,
                "budget": {
                    "total": program.budget_total,
                    "reserved": program.reserved,
                    "paid": program.paid,
                    "available": program.available,
                },
                "budget_display": {
                    "total": money_display(program.budget_total),
                    "reserved": money_display(program.reserved),
                    "paid": money_display(program.paid),
                    "available": money_display(program.available),
                },
                "by_status": [
                    {"status": s.value, "label": s.label, "count": by_status.get(s.value, 0)}
                    for s in ClaimStatus
                ],
                "total_claims": sum(by_status.values()),
                "oldest_under_review": first,
                "oldest_age_days": (today - timezone.localtime(first.submitted_at).date()).days
                if first
                else None,
            }
        )
    return rows


def next_claim_to_review(claim: Claim) -> Claim | None:
    """The next claim waiting for review after this one in arrival order (then from the start of its program)."""
    waiting = Claim.objects.filter(program_id=claim.program_id, status=ClaimStatus.UNDER_REVIEW).exclude(
        pk=claim.pk
    )
    return (
        waiting.filter(seq__gt=claim.seq).order_by("seq").only("pk", "claim_number").first()
        or waiting.order_by("seq").only("pk", "claim_number").first()
        or Claim.objects.filter(status=ClaimStatus.UNDER_REVIEW)
        .exclude(pk=claim.pk)
        .order_by("program_id", "seq")
        .only("pk", "claim_number")
        .first()
    )
