"""The `invoice_in_dealer_sales` check: the claim's invoice against the dealer's own sales records.

A dealer's records "cover" a date when the dealer has uploaded at least one sale invoiced in that calendar month
(dealers upload monthly). Covered but absent, or present with another VIN or amount: fail. Not covered: unknown.
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from claims.dealers.models import DealerSale
from claims.money import money_display
from claims.vocabulary import CheckResult

CODE = "invoice_in_dealer_sales"


def month_bounds(day: dt.date) -> tuple[dt.date, dt.date]:
    start = day.replace(day=1)
    end = (start + dt.timedelta(days=32)).replace(day=1)
    return start, end


def dealer_sale_for(credit_code: str, invoice_code: str, invoice_number: str) -> DealerSale | None:
    """The dealer's record of this invoice. A record without an invoice code matches on the number alone."""
    sales = list(DealerSale.objects.filter(credit_code=credit_code, invoice_number=invoice_number.upper()))
    code = (invoice_code or "").upper()
    exact = [s for s in sales if s.invoice_code == code]
    loose = [s for s in sales if not s.invoice_code or not code]
    return (exact or loose or [None])[0]


def sale_differences(claim, sale: DealerSale) -> list[str]:
    """What differs between a claim and the dealer's record of its invoice (field names)."""
    differences = []
    if sale.vin != claim.vin.upper():
        differences.append("vin")
    if sale.invoice_amount != claim.invoice_amount:
        differences.append("invoice_amount")
    if sale.invoice_date != claim.invoice_date:
        differences.append("invoice_date")
    return differences


def invoice_in_dealer_sales(claim) -> dict:
    sale = dealer_sale_for(claim.dealer_credit_code, claim.invoice_code, claim.invoice_number)
    if sale is not None:
        problems = []
        if sale.vin != claim.vin.upper():
            problems.append(_("车架号为 %(v)s") % {"v": sale.vin})
        if sale.invoice_amount != claim.invoice_amount:
            problems.append(_("金额为 %(a)s") % {"a": money_display(sale.invoice_amount)})
        if problems:
            detail = _("经销商销售记录中的该发票%(p)s，与申报不一致") % {"p": "，".join(problems)}
            return {"code": CODE, "result": CheckResult.FAIL.value, "detail": detail}
        detail = _("经销商销售记录中有该发票，车架号和金额一致")
        if sale.invoice_date != claim.invoice_date:
            detail += _("（开票日期记录为 %(d)s）") % {"d": sale.invoice_date.isoformat()}
        return {"code": CODE, "result": CheckResult.PASS.value, "detail": detail}
    start, end = month_bounds(claim.invoice_date)
    covered = DealerSale.objects.filter(
        credit_code=claim.dealer_credit_code, invoice_date__gte=start, invoice_date__lt=end
    ).exists()
    if covered:
        detail = _("经销商已上传 %(m)s 的销售记录，但其中没有发票 %(n)s") % {
            "m": start.strftime("%Y-%m"),
            "n": claim.invoice_number,
        }
        return {"code": CODE, "result": CheckResult.FAIL.value, "detail": detail}
    detail = _("经销商尚未上传 %(m)s 的销售记录") % {"m": start.strftime("%Y-%m")}
    return {"code": CODE, "result": CheckResult.UNKNOWN.value, "detail": detail}
