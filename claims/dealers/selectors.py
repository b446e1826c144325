"""Reviewers' views of the dealers' sales records: who has sent none, and where records and claims disagree."""

from __future__ import annotations

from django.db.models import Count, Exists, OuterRef, Q

from claims.dealers.checks import dealer_sale_for, month_bounds, sale_differences
from claims.dealers.models import DealerSale, DealerSalesImport
from claims.intake.models import INACTIVE_STATUSES
from claims.models import Claim

LIMIT = 500


def dealers_without_records() -> list[dict]:
    """Sellers named on active claims who have uploaded no sales records at all, most claims first."""
    has_records = DealerSale.objects.filter(credit_code=OuterRef("dealer_credit_code"))
    return list(
        Claim.objects.exclude(status__in=INACTIVE_STATUSES)
        .filter(~Exists(has_records))
        .values("dealer_credit_code")
        .annotate(claims=Count("id"))
        .order_by("-claims", "dealer_credit_code")[:LIMIT]
    )


def records_disagreeing() -> list[dict]:
    """Active claims whose invoice the dealer recorded with another VIN, amount or date (arrival order)."""
    same_invoice = DealerSale.objects.filter(
        credit_code=OuterRef("dealer_credit_code"), invoice_number=OuterRef("invoice_number")
    )
    differs = same_invoice.filter(
        ~Q(vin=OuterRef("vin"))
        | ~Q(invoice_amount=OuterRef("invoice_amount"))
        | ~Q(invoice_date=OuterRef("invoice_date"))
    )
    rows = []
    for claim in (
        Claim.objects.exclude(status__in=INACTIVE_STATUSES)
        .filter(Exists(differs))
        .order_by("program_id", "seq")[:LIMIT]
    ):
        sale = dealer_sale_for(claim.dealer_credit_code, claim.invoice_code, claim.invoice_number)
        if sale is None:
            continue
        rows.append({"claim": claim, "sale": sale, "differences": sale_differences(claim, sale)})
    return rows


def claims_affected_by_import(import_id: int) -> list[int]:
    """Claims whose `invoice_in_dealer_sales` check may change after an import: same dealer, same months."""
    months = {
        (code, month_bounds(day))
        for code, day in DealerSale.objects.filter(source_id=import_id).values_list(
            "credit_code", "invoice_date"
        )
    }
    query = Q()
    for code, (start, end) in months:
        query |= Q(dealer_credit_code=code, invoice_date__gte=start, invoice_date__lt=end)
    if not months:
        return []
    return list(
        Claim.objects.exclude(status__in=INACTIVE_STATUSES).filter(query).values_list("id", flat=True)
    )


def recent_imports(limit: int = 20):
    return DealerSalesImport.objects.select_related("uploaded_by").order_by("-id")[:limit]
