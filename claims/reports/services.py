"""Reports per program for the Commerce Bureau and for oversight, in CSV and XLSX, and the budget chart data for the admin dashboard.

* `summary`: claims and amounts by status, tier, fuel type and dealer. Every dimension covers every claim, so each
  dimension's totals line shows the program's reserved and paid figures exactly.
* `daily`: per day (Asia/Shanghai) the claims submitted, the payments made, and reserved / paid / available at
  the end of the day (from the ledger).
* `vehicles`: the subsidised (paid) vehicles for the Commerce Bureau.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.accounts.roles import AUDITOR, FINANCE, has_role
from claims.audit.services import audit_log
from claims.errors import Forbidden, NotFound, ServiceError
from claims.intake.models import RESERVED_STATUSES, ClaimStatus, FuelType
from claims.models import Claim, LedgerEntry, Program
from claims.money import ZERO, money_display
from claims.tabular import atomic_target, write_csv, write_xlsx

REPORT_KINDS = ("summary", "daily", "vehicles")
FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}

SUMMARY_HEADER = ("dimension", "key", "label", "claims", "subsidy_amount", "reserved_amount", "paid_amount")
DAILY_HEADER = (
    "date",
    "submitted_claims",
    "submitted_amount",
    "paid_claims",
    "paid_amount",
    "reserved_end_of_day",
    "paid_end_of_day",
    "available_end_of_day",
)
VEHICLES_HEADER = (
    "claim_number",
    "vin",
    "vehicle_model",
    "fuel_type",
    "dealer",
    "dealer_credit_code",
    "invoice_date",
    "invoice_amount",
    "subsidy_amount",
    "paid_date",
)
MONEY_COLUMNS = {"summary": [4, 5, 6], "daily": [2, 4, 5, 6, 7], "vehicles": [7, 8]}
HEADERS = {"summary": SUMMARY_HEADER, "daily": DAILY_HEADER, "vehicles": VEHICLES_HEADER}


def _local_date(value: dt.datetime) -> dt.date:
    return timezone.localtime(value).date()


# --- Summary -------------------------------------------------------------------------------------------------


def _grouped(program: Program, field: str) -> dict[Any, list]:
    rows = (
        Claim.objects.filter(program=program)
        .values(field, "status")
        .annotate(n=Count("id"), s=Sum("subsidy_amount"))
        .order_by(field, "status")
    )
    out: dict[Any, list] = {}
    for r in rows:
        acc = out.setdefault(r[field], [0, ZERO, ZERO, ZERO])
        amount = r["s"] or ZERO
        acc[0] += r["n"]
        acc[1] += amount
        if r["status"] in RESERVED_STATUSES:
            acc[2] += amount
        elif r["status"] == ClaimStatus.PAID:
            acc[3] += amount
    return out


def report_summary_rows(program: Program) -> list[tuple]:
    tiers = {t.position: str(t) for t in program.tiers.all()}
    dealers = {d.credit_code: d.name for d in program.dealers.all()}
    for code, name in (
        Claim.objects.filter(program=program)
        .exclude(dealer_name="")
        .values_list("dealer_credit_code", "dealer_name")
    ):
        dealers.setdefault(code, name)
    dimensions = [
        ("status", "status", lambda k: str(ClaimStatus(k).label), [s.value for s in ClaimStatus]),
        ("tier", "tier_position", lambda k: tiers.get(k, str(k)), None),
        ("fuel_type", "fuel_type", lambda k: str(FuelType(k).label), [f.value for f in FuelType]),
        ("dealer", "dealer_credit_code", lambda k: dealers.get(k, ""), None),
    ]
    rows: list[tuple] = []
    for dimension, field, label, order in dimensions:
        grouped = _grouped(program, field)
        keys = order if order is not None else sorted(grouped)
        total = [0, ZERO, ZERO, ZERO]
        for key in keys:
            n, subsidy, reserved, paid = grouped.get(key, [0, ZERO, ZERO, ZERO])
            if n == 0 and order is None:
                continue
            rows.append((dimension, str(key), label(key), n, subsidy, reserved, paid))
            total = [total[0] + n, total[1] + subsidy, total[2] + reserved, total[3] + paid]
        rows.append((dimension, "total", _("合计"), *total))
    return rows


# --- Daily series ----------------------------------------------------------------------------------------------


@dataclass
class Day:
    date: dt.date
    submitted_claims: int = 0
    submitted_amount: Decimal = ZERO
    paid_claims: int = 0
    paid_amount: Decimal = ZERO
    reserved: Decimal = ZERO
    paid: Decimal = ZERO
    budget: Decimal = ZERO

    @property
    def available(self) -> Decimal:
        return self.budget - self.reserved - self.paid


def report_daily(program: Program, *, until: dt.date | None = None, activity: bool = True) -> list[Day]:
    """One row per day from the first ledger entry to `until` (default: the last activity), gaps filled.

    `activity=False` (the budget chart) reads only the end-of-day figures, not the claims and payments per day.
    """
    tz = timezone.get_current_timezone()
    submitted = (
        {
            r["d"]: (r["n"], r["s"] or ZERO)
            for r in Claim.objects.filter(program=program)
            .annotate(d=TruncDate("submitted_at", tzinfo=tz))
            .values("d")
            .annotate(n=Count("id"), s=Sum("subsidy_amount"))
            .order_by()
        }
        if activity
        else {}
    )
    # Aggregated in SQL (one row per day, never every ledger row): the last entry of each day gives the state
    # at its end, and the payments of each day are counted and summed.
    ledger = LedgerEntry.objects.filter(program=program).annotate(d=TruncDate("created_at", tzinfo=tz))
    last_ids = ledger.values("d").annotate(last=Max("id")).order_by().values("last")
    end_of_day: dict[dt.date, tuple[Decimal, Decimal, Decimal]] = {}
    for created_at, reserved, paid, budget in LedgerEntry.objects.filter(pk__in=last_ids).values_list(
        "created_at", "reserved_after", "paid_after", "budget_after"
    ):
        end_of_day[_local_date(created_at)] = (reserved, paid, budget)
    payments = (
        {
            r["d"]: [r["n"], r["s"] or ZERO]
            for r in ledger.filter(kind=LedgerEntry.Kind.PAY)
            .values("d")
            .annotate(n=Count("id"), s=Sum("amount"))
            .order_by()
        }
        if activity
        else {}
    )
    dates = set(end_of_day) | set(submitted)
    if not dates:
        return []
    first, last = min(dates), max(dates)
    if until and until > last:
        last = until
    days: list[Day] = []
    state = (ZERO, ZERO, program.budget_total)
    current = first
    while current <= last:
        state = end_of_day.get(current, state)
        n, s = submitted.get(current, (0, ZERO))
        pn, ps = payments.get(current, [0, ZERO])
        days.append(Day(current, n, s, pn, ps, *state))
        current += dt.timedelta(days=1)
    return days


def report_daily_rows(program: Program) -> Iterator[tuple]:
    for d in report_daily(program):
        yield (
            d.date.isoformat(),
            d.submitted_claims,
            d.submitted_amount,
            d.paid_claims,
            d.paid_amount,
            d.reserved,
            d.paid,
            d.available,
        )


# --- Subsidised vehicles ---------------------------------------------------------------------------------------


def report_vehicle_rows(program: Program) -> Iterator[tuple]:
    qs = (
        Claim.objects.filter(program=program, status=ClaimStatus.PAID)
        .order_by("seq")
        .values_list(
            "claim_number",
            "vin",
            "vehicle_model",
            "fuel_type",
            "dealer_name",
            "dealer_credit_code",
            "invoice_date",
            "invoice_amount",
            "subsidy_amount",
            "paid_at",
        )
    )
    count, invoices, subsidies = 0, ZERO, ZERO
    for number, vin, model, fuel, dealer, code, inv_date, inv_amount, subsidy, paid_at in qs.iterator(
        chunk_size=2000
    ):
        count += 1
        invoices += inv_amount
        subsidies += subsidy
        yield (
            number,
            vin,
            model,
            str(FuelType(fuel).label),
            dealer,
            code,
            inv_date.isoformat(),
            inv_amount,
            subsidy,
            _local_date(paid_at).isoformat() if paid_at else "",
        )
    yield (_("合计"), _("共 %(n)d 辆") % {"n": count}, "", "", "", "", "", invoices, subsidies, "")


# --- Export ----------------------------------------------------------------------------------------------------


@dataclass
class ReportFile:
    path: Path
    filename: str
    content_type: str
    sha256: str


def _rows(program: Program, kind: str):
    if kind == "summary":
        return report_summary_rows(program)
    if kind == "daily":
        return report_daily_rows(program)
    return report_vehicle_rows(program)


def report_export(program_code: str, kind: str, fmt: str, user, *, request=None) -> ReportFile:
    """Write a report file (finance and auditors). `kind` "all" gives one workbook with every report (XLSX)."""
    if not has_role(user, FINANCE, AUDITOR):
        raise Forbidden("permission_denied", _("只有财务和审计人员可以导出报表"))
    program = Program.objects.filter(code=program_code).first()
    if program is None:
        raise NotFound("program_not_found", _("补贴项目不存在"))
    if fmt not in FORMATS:
        raise ServiceError("invalid_format", _("格式只能是 csv 或 xlsx"))
    if kind not in (*REPORT_KINDS, "all") or (kind == "all" and fmt != "xlsx"):
        raise ServiceError("invalid_report", _("报表只能是 summary、daily、vehicles（XLSX 另有 all）"))
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    filename = f"{program.code}-{kind}-{stamp}.{fmt}"
    path = Path(settings.EXPORTS_DIR) / "reports" / filename
    tmp = atomic_target(path)
    try:
        if fmt == "csv":
            written = write_csv(tmp, HEADERS[kind], _rows(program, kind))
        else:
            kinds = REPORT_KINDS if kind == "all" else (kind,)
            written = write_xlsx(
                tmp, [(k, HEADERS[k], _rows(program, k)) for k in kinds], money_columns=MONEY_COLUMNS
            )
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    audit_log(
        "report_exported",
        actor=user,
        request=request,
        obj=program,
        report=kind,
        format=fmt,
        sha256=written.sha256,
    )
    return ReportFile(path, filename, FORMATS[fmt], written.sha256)


# --- Budget chart (admin dashboard) ------------------------------------------------------------------------------


def budget_chart(program: Program, *, width: int = 640, height: int = 220) -> dict[str, Any]:
    """Reserved, paid and available at the end of each day, as SVG polylines (no JavaScript, no CDN)."""
    days = report_daily(program, until=timezone.localdate(), activity=False)
    pad_left, pad_right, pad_top, pad_bottom = 96, 10, 10, 24  # room for "¥10,000,000.00"
    plot_w, plot_h = width - pad_left - pad_right, height - pad_top - pad_bottom
    chart: dict[str, Any] = {
        "program": program,
        "width": width,
        "height": height,
        "plot": {"x": pad_left, "y": pad_top, "w": plot_w, "h": plot_h, "bottom": pad_top + plot_h},
        "empty": not days,
        "series": [],
    }
    if not days:
        return chart
    top = max(max(d.budget for d in days), Decimal("1"))
    n = len(days)

    def xy(x: float, value: Decimal) -> str:
        y = pad_top + plot_h - float(value / top) * plot_h
        return f"{x:.1f},{y:.1f}"

    def points(values: list[Decimal]) -> str:
        if n == 1:  # one day so far: a level line across the plot, not an invisible single point
            return f"{xy(pad_left, values[0])} {xy(pad_left + plot_w, values[0])}"
        return " ".join(xy(pad_left + plot_w * i / (n - 1), v) for i, v in enumerate(values))

    for name, color, getter in (
        (_("已预留"), "#d97706", lambda d: d.reserved),
        (_("已发放"), "#059669", lambda d: d.paid),
        (_("可用"), "#2563eb", lambda d: d.available),
    ):
        chart["series"].append(
            {
                "name": name,
                "color": color,
                "points": points([getter(d) for d in days]),
                "last": money_display(getter(days[-1])),
            }
        )
    chart["y_max"] = money_display(top)
    chart["y_mid"] = money_display(top / 2)
    chart["y_mid_pos"] = pad_top + plot_h / 2
    chart["first_date"] = days[0].date.isoformat()
    chart["last_date"] = days[-1].date.isoformat()
    return chart
