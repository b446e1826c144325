"""The settlement of a program (结算报表): every claim with its money, and the totals per tier and fuel type and
per dealer, reconciled to the fen with the budget recomputation.

Each grouping covers every claim, so the totals of each section equal the program's reserved and paid figures; the
reconciliation lists any difference (there is none while the budget invariant holds).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import Count, Max, Min, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.accounts.roles import AUDITOR, FINANCE, has_role
from claims.audit.services import audit_log
from claims.errors import Forbidden, NotFound
from claims.intake.models import RESERVED_STATUSES, ClaimStatus
from claims.models import Claim, Program, Tier
from claims.money import ZERO
from claims.programs.budget import ClaimFigures, budget_recompute
from claims.tabular import atomic_target, write_xlsx
from claims.vocabulary import FuelType

DETAIL_FIELDS = (
    "claim_number",
    "status",
    "fuel_type",
    "tier_position",
    "dealer_name",
    "dealer_credit_code",
    "subsidy_amount",
    "paid_at",
    "bank_reference",
)
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Group:
    key: tuple[Any, ...]
    label: str
    claims: int = 0
    subsidy: Decimal = ZERO
    reserved: Decimal = ZERO
    paid: Decimal = ZERO

    def add(self, status: str, claims: int, amount: Decimal) -> None:
        """Add `claims` claims in `status` whose subsidies sum to `amount`."""
        self.claims += claims
        self.subsidy += amount
        if status in RESERVED_STATUSES:
            self.reserved += amount
        elif status == ClaimStatus.PAID:
            self.paid += amount


@dataclass
class Settlement:
    program: Program
    generated_at: Any
    claims: list[dict[str, Any]]
    by_status: list[Group]
    by_tier_fuel: list[Group]
    by_dealer: list[Group]
    total: Group
    budget_ok: bool
    problems: list[str] = field(default_factory=list)
    more: int = 0  # claims left out of `claims` (the page shows the first rows; the XLSX all of them)

    @property
    def available(self) -> Decimal:
        return self.program.budget_total - self.program.reserved - self.program.paid


def _tier_label(tiers: dict[int, Tier], position: int) -> str:
    tier = tiers.get(position)
    if tier is None:
        return _("第 %(n)s 档") % {"n": position + 1}
    if tier.up_to is None:
        band = _("%(a)s 元（不含）以上") % {"a": tier.above}
    else:
        band = _("%(a)s 元（不含）以上至 %(b)s 元（含）") % {"a": tier.above, "b": tier.up_to}
    return _("第 %(n)s 档：%(band)s") % {"n": position + 1, "band": band}


def settlement_build(program: Program, *, detail_rows: int | None = None) -> Settlement:
    """The settlement of `program` as it is now (its figures are read again first).

    `detail_rows` keeps only the first rows of the claim list (the page); the totals always cover every claim.
    """
    program.refresh_from_db()
    return _settlement(program, detail_rows)


def _settlement(program: Program, detail_rows: int | None) -> Settlement:
    """Total every claim three ways in one aggregate query; reconcile with the budget recomputation.

    Two passes over the program's claims, whatever their number: the claim list (only its first `detail_rows`
    for the page) and one grouped aggregate (an index-only scan of `claim_settlement_cover`, already in the
    grouping's order), which also gives the budget recomputation the claims' figures.
    """
    tiers = {t.position: t for t in Tier.objects.filter(program=program)}
    tier_labels = {position: _tier_label(tiers, position) for position in tiers}
    # Labels translated once, not once per row.
    fuel_labels = {value: str(label) for value, label in FuelType.choices}
    status_labels = {value: str(label) for value, label in ClaimStatus.choices}
    rows: list[dict[str, Any]] = []
    status_groups: dict[str, Group] = {}
    tier_groups: dict[tuple[int, str], Group] = {}
    dealer_groups: dict[str, Group] = {}
    total = Group(key=(), label=_("合计"))
    # Plain rows, not model instances: building a Claim object per row would be most of the time spent.
    claims = Claim.objects.filter(program=program).order_by("seq").values(*DETAIL_FIELDS)
    detail = claims if detail_rows is None else claims[:detail_rows]
    for claim in detail.iterator(chunk_size=2000):
        status, amount, paid_at = claim["status"], claim["subsidy_amount"], claim["paid_at"]
        rows.append(
            {
                "claim_number": claim["claim_number"],
                "status": status_labels[status],
                "fuel_type": fuel_labels.get(claim["fuel_type"], claim["fuel_type"]),
                "tier": claim["tier_position"] + 1,
                "dealer": claim["dealer_name"] or claim["dealer_credit_code"],
                "dealer_credit_code": claim["dealer_credit_code"],
                "subsidy_amount": amount,
                "reserved_amount": amount if status in RESERVED_STATUSES else ZERO,
                "paid_amount": amount if status == ClaimStatus.PAID else ZERO,
                "paid_on": timezone.localtime(paid_at).date().isoformat() if paid_at else "",
                "bank_reference": claim["bank_reference"] or "",
            }
        )
    # The totals are summed in SQL: one row per (dealer, dealer name, status, tier, fuel type), never one per
    # claim. The order is the index's: a dealer's label is its first row's name (the greatest).
    grouped = (
        Claim.objects.filter(program=program)
        .values("status", "tier_position", "fuel_type", "dealer_credit_code", "dealer_name")
        .annotate(n=Count("*"), s=Sum("subsidy_amount"), first_seq=Min("seq"), last_seq=Max("seq"))
        .order_by("dealer_credit_code", "-dealer_name")
    )
    seqs: list[int] = []
    for r in grouped:
        status, n, amount = r["status"], r["n"], r["s"] or ZERO
        seqs += (r["first_seq"], r["last_seq"])
        group = status_groups.get(status)
        if group is None:
            group = status_groups[status] = Group(key=(status,), label=status_labels[status])
        group.add(status, n, amount)
        key = (r["tier_position"], r["fuel_type"])
        group = tier_groups.get(key)
        if group is None:
            tier = tier_labels.get(r["tier_position"]) or _tier_label(tiers, r["tier_position"])
            label = f"{tier} · {fuel_labels.get(r['fuel_type'], r['fuel_type'])}"
            group = tier_groups[key] = Group(key=key, label=label)
        group.add(status, n, amount)
        code = r["dealer_credit_code"]
        group = dealer_groups.get(code)
        if group is None:
            group = dealer_groups[code] = Group(key=(code,), label=f"{r['dealer_name'] or '—'}（{code}）")
        group.add(status, n, amount)
        total.add(status, n, amount)
    figures = ClaimFigures(
        reserved=total.reserved,
        paid=total.paid,
        count=total.claims,
        first_seq=min(seqs, default=None),
        last_seq=max(seqs, default=None),
    )
    report = budget_recompute(program, figures=figures)
    problems = list(report.problems)
    if total.reserved != program.reserved:
        problems.append(f"reserved: claims {total.reserved:.2f} != program {program.reserved:.2f}")
    if total.paid != program.paid:
        problems.append(f"paid: claims {total.paid:.2f} != program {program.paid:.2f}")
    for name, groups in (("tier", tier_groups), ("dealer", dealer_groups), ("status", status_groups)):
        if (
            sum((g.reserved for g in groups.values()), ZERO) != total.reserved
            or sum((g.paid for g in groups.values()), ZERO) != total.paid
        ):
            problems.append(f"{name} totals do not add up")
    return Settlement(
        program=program,
        generated_at=timezone.localtime(),
        claims=rows,
        more=total.claims - len(rows),
        by_status=[status_groups[s] for s in ClaimStatus.values if s in status_groups],
        by_tier_fuel=[tier_groups[k] for k in sorted(tier_groups)],
        by_dealer=[dealer_groups[k] for k in sorted(dealer_groups)],
        total=total,
        budget_ok=not problems,
        problems=problems,
    )


PAGE_ROWS = 500


def settlement_for(
    program_code: str, user, *, request=None, detail_rows: int | None = PAGE_ROWS
) -> Settlement:
    """The settlement for finance and auditors; viewing it is audited."""
    if not has_role(user, FINANCE, AUDITOR):
        raise Forbidden("permission_denied", _("只有财务和审计人员可以查看结算报表"))
    program = Program.objects.filter(code=program_code).first()
    if program is None:
        raise NotFound("program_not_found", _("补贴项目不存在"))
    return _settlement(program, detail_rows)


CLAIM_HEADER = (
    "申请编号",
    "状态",
    "车辆类型",
    "档次",
    "销售方",
    "统一社会信用代码",
    "补贴金额",
    "预留金额",
    "已发放金额",
    "发放日期",
    "银行流水号",
)
GROUP_HEADER = ("分组", "申请数", "补贴金额", "预留金额", "已发放金额")


def _claim_rows(s: Settlement) -> Iterator[list[Any]]:
    for r in s.claims:
        yield [
            r["claim_number"],
            str(r["status"]),
            str(r["fuel_type"]),
            r["tier"],
            r["dealer"],
            r["dealer_credit_code"],
            r["subsidy_amount"],
            r["reserved_amount"],
            r["paid_amount"],
            r["paid_on"],
            r["bank_reference"],
        ]
    t = s.total
    yield [str(_("合计")), "", "", "", "", "", t.subsidy, t.reserved, t.paid, "", ""]


def _group_rows(groups: list[Group], total: Group) -> Iterator[list[Any]]:
    for g in groups:
        yield [g.label, g.claims, g.subsidy, g.reserved, g.paid]
    yield [str(_("合计")), total.claims, total.subsidy, total.reserved, total.paid]


def _summary_rows(s: Settlement) -> Iterator[list[Any]]:
    p = s.program
    yield [str(_("补贴项目")), p.name]
    yield [str(_("项目代码")), p.code]
    yield [
        str(_("结束时间")),
        timezone.localtime(p.closed_at).isoformat() if p.closed_at else str(_("未结束")),
    ]
    yield [str(_("生成时间")), s.generated_at.isoformat()]
    yield [str(_("预算总额")), p.budget_total]
    yield [str(_("已预留")), p.reserved]
    yield [str(_("已发放")), p.paid]
    yield [str(_("可用余额")), s.available]
    yield [str(_("与预算核对")), str(_("一致")) if s.budget_ok else "; ".join(s.problems)]


def settlement_export_xlsx(program_code: str, user, *, request=None) -> tuple[Path, str]:
    """Write the settlement workbook (summary, claims, per tier and fuel type, per dealer, per status)."""
    s = settlement_for(program_code, user, request=request, detail_rows=None)
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    filename = f"{s.program.code}-settlement-{stamp}.xlsx"
    path = Path(settings.EXPORTS_DIR) / "reports" / filename
    tmp = atomic_target(path)
    try:
        written = write_xlsx(
            tmp,
            [
                ("结算汇总", ("项目", "数值"), _summary_rows(s)),
                ("逐笔明细", CLAIM_HEADER, _claim_rows(s)),
                ("按档次和车辆类型", GROUP_HEADER, _group_rows(s.by_tier_fuel, s.total)),
                ("按销售方", GROUP_HEADER, _group_rows(s.by_dealer, s.total)),
                ("按状态", GROUP_HEADER, _group_rows(s.by_status, s.total)),
            ],
            money_columns={
                "结算汇总": (1,),
                "逐笔明细": (6, 7, 8),
                "按档次和车辆类型": (2, 3, 4),
                "按销售方": (2, 3, 4),
                "按状态": (2, 3, 4),
            },
        )
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    audit_log(
        "settlement_export",
        actor=user,
        request=request,
        obj=s.program,
        sha256=written.sha256,
        budget_ok=s.budget_ok,
    )
    return path, filename
