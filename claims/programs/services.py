"""Programs as data (docs/programs.md): validate a program file, create or update the program, the subsidy rule."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.errors import ServiceError
from claims.intake.models import ClaimStatus
from claims.intake.validators import credit_code_ok
from claims.models import Claim, Dealer, LedgerEntry, Program, Tier
from claims.money import ZERO, parse_money
from claims.programs.budget import waitlist_promote
from claims.vocabulary import FuelType

FUEL_TYPES: tuple[str, ...] = tuple(FuelType.values)
REQUIRED = (
    "code",
    "name",
    "claim_prefix",
    "currency",
    "budget_total",
    "claim_window",
    "purchase_window",
    "min_pos_amount",
    "tiers",
)


class ProgramFileError(ServiceError):
    """A program file that cannot be loaded; `field` names the bad part (e.g. `tiers[2].up_to`)."""

    def __init__(self, field: str, message: str):
        super().__init__("invalid_program", f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class TierSpec:
    above: Decimal
    up_to: Decimal | None
    fuel: Decimal
    nev: Decimal


@dataclass(frozen=True)
class ProgramSpec:
    code: str
    name: str
    claim_prefix: str
    currency: str
    budget_total: Decimal
    claim_window: tuple[dt.date, dt.date]
    purchase_window: tuple[dt.date, dt.date]
    min_pos_amount: Decimal
    tiers: tuple[TierSpec, ...]
    waitlist_enabled: bool
    dealers: tuple[tuple[str, str], ...]
    waitlist_max_length: int | None
    correction_days: int
    appeal_days: int
    payout_fix_days: int
    counter_address: str
    raw: dict


class _JsonFloat(str):
    """A JSON number with a fraction: money must be a string, so it is refused (and never becomes a float)."""


def _money(value: Any, field: str) -> Decimal:
    if isinstance(value, bool | _JsonFloat) or not isinstance(value, str | int):
        raise ProgramFileError(field, _('金额必须是字符串形式的十进制数，例如 "6000.00"'))
    amount = parse_money(value)
    if amount is None:
        raise ProgramFileError(field, _("不是有效的金额（最多两位小数）"))
    if amount < 0:
        raise ProgramFileError(field, _("金额不能为负数"))
    return amount


def _date(value: Any, field: str) -> dt.date:
    if not isinstance(value, str):
        raise ProgramFileError(field, _("日期必须是 YYYY-MM-DD 格式的字符串"))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ProgramFileError(field, _("不是有效的日期（YYYY-MM-DD）")) from None


def _window(value: Any, field: str) -> tuple[dt.date, dt.date]:
    if not isinstance(value, dict):
        raise ProgramFileError(field, _("必须是包含 start 和 end 的对象"))
    for key in ("start", "end"):
        if key not in value:
            raise ProgramFileError(f"{field}.{key}", _("缺少必填项"))
    start, end = _date(value["start"], f"{field}.start"), _date(value["end"], f"{field}.end")
    if end < start:
        raise ProgramFileError(f"{field}.end", _("结束日期早于开始日期"))
    return start, end


def _text(data: dict, key: str, max_length: int) -> str:
    value = data[key]
    if not isinstance(value, str) or not value.strip():
        raise ProgramFileError(key, _("必须是非空字符串"))
    if len(value) > max_length:
        raise ProgramFileError(key, _("过长（最多 %(n)d 个字符）") % {"n": max_length})
    return value.strip()


def _tiers(value: Any) -> tuple[TierSpec, ...]:
    if not isinstance(value, list) or not value:
        raise ProgramFileError("tiers", _("必须是非空列表"))
    specs: list[TierSpec] = []
    for i, item in enumerate(value):
        field = f"tiers[{i}]"
        if not isinstance(item, dict):
            raise ProgramFileError(field, _("必须是对象"))
        for key in ("above", "up_to", "amounts"):
            if key not in item:
                raise ProgramFileError(f"{field}.{key}", _("缺少必填项"))
        above = _money(item["above"], f"{field}.above")
        up_to = None if item["up_to"] is None else _money(item["up_to"], f"{field}.up_to")
        if up_to is not None and up_to <= above:
            raise ProgramFileError(f"{field}.up_to", _("上限必须大于下限"))
        amounts = item["amounts"]
        if not isinstance(amounts, dict):
            raise ProgramFileError(f"{field}.amounts", _("必须是对象"))
        unknown = sorted(set(amounts) - set(FUEL_TYPES))
        if unknown:
            raise ProgramFileError(f"{field}.amounts.{unknown[0]}", _("未知的车辆类型（只能是 fuel 或 nev）"))
        for fuel in FUEL_TYPES:
            if fuel not in amounts:
                raise ProgramFileError(f"{field}.amounts.{fuel}", _("缺少必填项"))
        specs.append(
            TierSpec(
                above,
                up_to,
                _money(amounts["fuel"], f"{field}.amounts.fuel"),
                _money(amounts["nev"], f"{field}.amounts.nev"),
            )
        )
    open_ended = [i for i, t in enumerate(specs) if t.up_to is None]
    if len(open_ended) > 1:
        raise ProgramFileError(f"tiers[{open_ended[1]}].up_to", _("只能有一个不设上限的档次"))
    ordered = sorted(enumerate(specs), key=lambda pair: pair[1].above)
    for (_i, low), (j, high) in zip(ordered, ordered[1:], strict=False):
        if low.up_to is None or high.above < low.up_to:
            raise ProgramFileError(f"tiers[{j}].above", _("档次区间重叠"))
        if high.above > low.up_to:
            raise ProgramFileError(f"tiers[{j}].above", _("档次区间不连续（与上一档之间有空档）"))
    for tier in specs:
        if tier.fuel <= 0 or tier.nev <= 0:
            raise ProgramFileError("tiers", _("补贴金额必须大于零"))
    return tuple(t for _i, t in ordered)


def _dealers(value: Any) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        raise ProgramFileError("dealers", _("必须是列表"))
    dealers = []
    seen = set()
    for i, item in enumerate(value):
        field = f"dealers[{i}]"
        if (
            not isinstance(item, dict)
            or not isinstance(item.get("name"), str)
            or not item.get("name", "").strip()
        ):
            raise ProgramFileError(f"{field}.name", _("缺少经销商名称"))
        code = item.get("credit_code")
        if not isinstance(code, str) or not credit_code_ok(code.strip().upper()):
            raise ProgramFileError(f"{field}.credit_code", _("统一社会信用代码无效（校验位不符，GB 32100）"))
        code = code.strip().upper()
        if code in seen:
            raise ProgramFileError(f"{field}.credit_code", _("经销商重复"))
        seen.add(code)
        dealers.append((item["name"].strip(), code))
    return tuple(dealers)


def program_parse(data: Any) -> ProgramSpec:
    """Validate a whole program document; raise ProgramFileError naming the first bad field."""
    if not isinstance(data, dict):
        raise ProgramFileError("(file)", _("程序文件必须是 JSON 对象"))
    for key in REQUIRED:
        if key not in data:
            raise ProgramFileError(key, _("缺少必填项"))
    code = _text(data, "code", 64)
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in code):
        raise ProgramFileError("code", _("只能包含字母、数字、- 和 _"))
    prefix = _text(data, "claim_prefix", 12)
    if not all(c.isascii() and c.isalnum() for c in prefix):
        raise ProgramFileError("claim_prefix", _("只能包含字母和数字"))
    currency = _text(data, "currency", 3)
    if currency != "CNY":
        raise ProgramFileError("currency", _("只支持 CNY"))
    waitlist = data.get("waitlist", {"enabled": True})
    if not isinstance(waitlist, dict) or not isinstance(waitlist.get("enabled", True), bool):
        raise ProgramFileError("waitlist.enabled", _("必须是 true 或 false"))
    max_length = waitlist.get("max_length")
    if max_length is not None and (
        isinstance(max_length, bool) or not isinstance(max_length, int) or max_length < 0
    ):
        raise ProgramFileError("waitlist.max_length", _("必须是不小于 0 的整数或 null"))
    correction_days = _days(data, "correction_days", 15)
    appeal_days = _days(data, "appeal_days", 15)
    payout_fix_days = _days(data, "payout_fix_days", 30)
    counter = data.get("counter_address", "")
    if not isinstance(counter, str):
        raise ProgramFileError("counter_address", _("必须是字符串"))
    return ProgramSpec(
        code=code,
        name=_text(data, "name", 200),
        claim_prefix=prefix,
        currency=currency,
        budget_total=_money(data["budget_total"], "budget_total"),
        claim_window=_window(data["claim_window"], "claim_window"),
        purchase_window=_window(data["purchase_window"], "purchase_window"),
        min_pos_amount=_money(data["min_pos_amount"], "min_pos_amount"),
        tiers=_tiers(data["tiers"]),
        waitlist_enabled=waitlist.get("enabled", True),
        dealers=_dealers(data.get("dealers", [])),
        waitlist_max_length=max_length,
        correction_days=correction_days,
        appeal_days=appeal_days,
        payout_fix_days=payout_fix_days,
        counter_address=counter.strip(),
        raw=data,
    )


def _days(data: dict, key: str, default: int) -> int:
    """An optional whole number of days between 1 and 365."""
    value = data.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 365:
        raise ProgramFileError(key, _("必须是 1 到 365 之间的整数"))
    return value


def program_parse_file(path: str | Path) -> ProgramSpec:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ProgramFileError("(file)", _("文件不存在")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgramFileError("(file)", _("无法读取文件：%(e)s") % {"e": exc}) from None
    try:
        data = json.loads(text, parse_float=_JsonFloat)
    except json.JSONDecodeError as exc:
        raise ProgramFileError(
            "(file)", _("JSON 格式错误：第 %(l)d 行第 %(c)d 列") % {"l": exc.lineno, "c": exc.colno}
        ) from None
    return program_parse(data)


def _tiers_equal(program: Program, spec: ProgramSpec) -> bool:
    current = [(t.above, t.up_to, t.fuel_amount, t.nev_amount) for t in program.tiers.order_by("position")]
    return current == [(t.above, t.up_to, t.fuel, t.nev) for t in spec.tiers]


@transaction.atomic
def program_load(spec: ProgramSpec) -> tuple[Program, bool]:
    """Create the program, or update it under the rules of docs/programs.md (what may change once claims exist). Returns (program, created)."""
    program = Program.objects.select_for_update().filter(code=spec.code).first()
    created = program is None
    if Program.objects.filter(claim_prefix=spec.claim_prefix).exclude(code=spec.code).exists():
        raise ProgramFileError("claim_prefix", _("该编号前缀已被其他项目使用"))
    fields = dict(
        name=spec.name,
        claim_prefix=spec.claim_prefix,
        currency=spec.currency,
        claim_window_start=spec.claim_window[0],
        claim_window_end=spec.claim_window[1],
        purchase_window_start=spec.purchase_window[0],
        purchase_window_end=spec.purchase_window[1],
        min_pos_amount=spec.min_pos_amount,
        waitlist_enabled=spec.waitlist_enabled,
        waitlist_max_length=spec.waitlist_max_length,
        correction_days=spec.correction_days,
        appeal_days=spec.appeal_days,
        payout_fix_days=spec.payout_fix_days,
        counter_address=spec.counter_address,
        source=spec.raw,
    )
    if created:
        program = Program.objects.create(code=spec.code, budget_total=spec.budget_total, **fields)
        LedgerEntry.objects.create(
            program=program,
            kind=LedgerEntry.Kind.BUDGET,
            amount=spec.budget_total,
            reserved_after=ZERO,
            paid_after=ZERO,
            budget_after=spec.budget_total,
            note="program created",
        )
    else:
        has_claims = Claim.objects.filter(program=program).exists()
        if has_claims:
            frozen = {
                "claim_window": (program.claim_window_start, program.claim_window_end) != spec.claim_window,
                "purchase_window": (program.purchase_window_start, program.purchase_window_end)
                != spec.purchase_window,
                "tiers": not _tiers_equal(program, spec),
                "claim_prefix": program.claim_prefix != spec.claim_prefix,
                "min_pos_amount": program.min_pos_amount != spec.min_pos_amount,
            }
            for field, changed in frozen.items():
                if changed:
                    raise ProgramFileError(field, _("项目已有申请，不能再修改档次、期限或编号前缀"))
        if spec.budget_total < program.reserved + program.paid:
            raise ProgramFileError(
                "budget_total",
                _("预算不能低于已预留与已发放之和 %(x)s") % {"x": f"{program.reserved + program.paid:.2f}"},
            )
        for key, value in fields.items():
            setattr(program, key, value)
        budget_changed = program.budget_total != spec.budget_total
        program.budget_total = spec.budget_total
        program.save()
        if budget_changed:
            LedgerEntry.objects.create(
                program=program,
                kind=LedgerEntry.Kind.BUDGET,
                amount=spec.budget_total,
                reserved_after=program.reserved,
                paid_after=program.paid,
                budget_after=spec.budget_total,
                note="budget changed",
            )
    if created or not _tiers_equal(program, spec):
        program.tiers.all().delete()
        Tier.objects.bulk_create(
            Tier(
                program=program,
                position=i,
                above=t.above,
                up_to=t.up_to,
                fuel_amount=t.fuel,
                nev_amount=t.nev,
            )
            for i, t in enumerate(spec.tiers)
        )
    program.dealers.all().delete()
    Dealer.objects.bulk_create(Dealer(program=program, name=n, credit_code=c) for n, c in spec.dealers)
    if not created and program.budget_total:
        # A raised budget may let waitlisted claims in.

        waitlist_promote(program)
    return program, created


# --- The subsidy rule ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Quote:
    eligible: bool
    amount: Decimal | None = None
    tier_position: int | None = None
    tier: Tier | None = None
    code: str | None = None
    message: str | None = None


def subsidy_quote(tiers: list[Tier], invoice_amount: Decimal, fuel_type: str) -> Quote:
    """The subsidy tiers as a pure rule: the tier with `above < amount <= up_to` and its amount for the fuel type."""
    if fuel_type not in FUEL_TYPES:
        return Quote(
            False, code="invalid_fuel_type", message=_("车辆类型只能是 fuel（燃油车）或 nev（新能源车）")
        )
    for tier in sorted(tiers, key=lambda t: t.above):
        if invoice_amount > tier.above and (tier.up_to is None or invoice_amount <= tier.up_to):
            return Quote(True, tier.amount_for(fuel_type), tier.position, tier)
    lowest = min((t.above for t in tiers), default=ZERO)
    return Quote(
        False,
        code="below_minimum_amount",
        message=_("发票金额须高于 %(x)s 元才能享受补贴") % {"x": f"{lowest:,.2f}"},
    )


def program_status(program: Program, waitlist_length: int, today: dt.date | None = None) -> str:
    today = today or timezone.localdate()
    if today < program.claim_window_start:
        return "upcoming"
    if today > program.claim_window_end:
        return "closed"
    smallest = min((min(t.fuel_amount, t.nev_amount) for t in program.tiers.all()), default=ZERO)
    if waitlist_length > 0 or program.available < max(smallest, Decimal("0.01")):
        return "exhausted"
    return "open"


def waitlist_length(program: Program) -> int:
    return Claim.objects.filter(program=program, status=ClaimStatus.WAITLISTED).count()
