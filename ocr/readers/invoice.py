"""机动车销售统一发票 (paper: 12-digit code + 8-digit number; fully digital: one 20-digit number).

Values are found by what they are (``candidates``), on the whole page, and labels only choose between them
(``binding``).  A value is confident only when it was verified: check characters and a single reading on the
page for VINs and ID numbers; two printed copies or a clear reading bound to its label for numbers and codes;
for the amount, two independent readings (大写 = ¥, or 不含税价 + 税额 = 价税合计 with 税额 = 价税合计 × r/(1+r)
at a printed rate r; a second engine is merged later).  A name is confident only beside the buyer's own valid
ID number, never because of where it sits alone; a label or any form text is never a value.
"""

from __future__ import annotations

import re
from decimal import Decimal

from ..engines import TextLine
from ..labels import is_furniture
from ..numerals import parse_amount_words
from .base import MIN_CONFIDENCE, MIN_NAME_CONFIDENCE, FieldReading, Item, Layout, compact, missing
from .binding import Bound, beside, bind, distinct, texts_near
from .candidates import (
    AMOUNT,
    CODE_DIGITS,
    CREDIT,
    DATE,
    ID,
    RATE,
    VIN,
    WORDS,
    Candidate,
    page_candidates,
    words_share,
)

__all__ = ["FIELDS", "REQUIRED", "TAX_RATES", "amount_consensus", "rate_check", "read_invoice"]

FIELDS = (
    "invoice_code",
    "invoice_number",
    "invoice_date",
    "buyer_name",
    "buyer_id_number",
    "vin",
    "amount_words",
    "amount_figures",
    "net_amount",
    "tax_amount",
    "tax_rate",
    "seller_name",
    "seller_credit_code",
)
REQUIRED = ("invoice_number", "invoice_date", "buyer_name", "buyer_id_number", "vin", "amount_figures")
TAX_RATES = (13, 9, 6, 3, 1, 16, 17)
_CENT = Decimal("0.01")

NUMBER_LABELS = ("发票号码",)
MACHINE_NUMBER_LABELS = ("机打号码",)
CODE_LABELS = ("发票代码",)
MACHINE_CODE_LABELS = ("机打代码",)
DATE_LABELS = ("开票日期",)
BUYER_NAME_LABELS = ("购买方名称及身份证号码", "购买方名称", "名称")
BUYER_ID_LABELS = (
    "身份证号码/组织机构代码",
    "统一社会信用代码/纳税人识别号/身份证号码",
    "纳税人识别号/统一社会信用代码/身份证号码",
    "身份证号码",
    "组织机构代码",
    "购买方名称及身份证号码",
)
SELLER_NAME_LABELS = ("销货单位名称", "销售方名称", "名称")
SELLER_CODE_LABELS = ("统一社会信用代码/纳税人识别号", "纳税人识别号", "统一社会信用代码")
VIN_LABELS = ("车辆识别代号/车架号码", "车辆识别代号", "车架号码")
TOTAL_LABELS = ("价税合计", "小写")
NET_LABELS = ("不含税价", "金额", "合计")
TAX_LABELS = ("增值税税额", "税额")
_SELLER_WORDS = ("销货", "销售", "单位")
_NAME_RE = re.compile(r"[\u3400-\u9fff][\u3400-\u9fff·]*")
# 2-4 characters, or a minority name whose parts are joined by ·
_PERSON_RE = re.compile(r"^(?:[\u3400-\u9fff]{2,4}|[\u3400-\u9fff]{1,8}(?:·[\u3400-\u9fff]{1,8}){1,3})$")
_VIN_SHAPE = re.compile(r"(?<![0-9A-Z])[A-HJ-NPR-Z0-9]{17}(?![0-9A-Z])")
_ID_SHAPE = re.compile(r"(?<![0-9A-Z])\d{17}[\dX](?![0-9A-Z])")
_COMPANY_SUFFIXES = ("公司", "有限公司", "厂", "中心", "店")


def rate_check(total: Decimal, net: Decimal, tax: Decimal, rates=TAX_RATES) -> int | None:
    """The rate r (in %) for which net + tax == total and tax == total × r/(1 + r) within 0.01, if any."""
    if net + tax != total or net <= tax:
        return None
    for rate in rates:
        expected = total * Decimal(rate) / (100 + Decimal(rate))
        if abs(expected - tax) <= _CENT:
            return rate
    return None


def amount_consensus(
    figures: Decimal | None, words: Decimal | None, net: Decimal | None, tax: Decimal | None
) -> tuple[Decimal | None, set[str]]:
    """The total that two independent readings agree on, and which readings agree (used across engines)."""
    readings: dict[str, Decimal] = {}
    if figures is not None:
        readings["figures"] = figures
    if words is not None:
        readings["words"] = words
    if net is not None and tax is not None and rate_check(net + tax, net, tax) is not None:
        readings["sum"] = net + tax
    best: tuple[Decimal | None, set[str]] = (None, set())
    for value in set(readings.values()):
        agreeing = {k for k, v in readings.items() if v == value}
        if len(agreeing) >= 2 and len(agreeing) > len(best[1]):
            best = (value, agreeing)
    return best


def _best(bounds: list[Bound]) -> Bound | None:
    return bounds[0] if bounds else None


def _copies(
    layout: Layout, cands: list[Candidate], labels, machine_labels, exclude=()
) -> FieldReading | None:
    """A number printed twice (top right and in the machine-printed rows): bound to either label."""
    top = _best(bind(layout, cands, labels, exclude=("机打", *exclude)))
    machine = _best(bind(layout, cands, machine_labels))
    readings = [b.candidate for b in (top, machine) if b is not None]
    if not readings:
        return None
    values = {c.value for c in readings}
    best = max(readings, key=lambda c: c.confidence)
    if len(values) > 1:
        return FieldReading(best.value, best.confidence, False)
    if len(readings) == 2:
        confident = min(c.confidence for c in readings) >= MIN_CONFIDENCE
    else:
        confident = best.confidence >= MIN_NAME_CONFIDENCE
    return FieldReading(best.value, best.confidence, confident)


def _unique(cands: list[Candidate]) -> Candidate | None:
    groups = distinct(cands)
    if len(groups) != 1:
        return None
    return max(next(iter(groups.values())), key=lambda c: c.confidence)


def _checked_field(
    layout: Layout, cands: list[Candidate], labels, exclude=(), where=None
) -> FieldReading | None:
    """A value with check characters: the only one of its kind on the page, or the one bound to its label."""
    if not cands:
        return None
    groups = distinct(cands)
    bound = bind(layout, cands, labels, exclude=exclude, where=where)
    if len(groups) == 1:
        cand = max(next(iter(groups.values())), key=lambda c: c.confidence)
        return FieldReading(cand.value, cand.confidence, cand.confidence >= MIN_CONFIDENCE)
    bound_values = {b.candidate.value for b in bound}
    if len(bound_values) == 1:
        cand = bound[0].candidate
        return FieldReading(cand.value, cand.confidence, cand.confidence >= MIN_CONFIDENCE)
    if bound:
        cand = bound[0].candidate
        return FieldReading(cand.value, cand.confidence, False)
    return None


def _unverified(layout: Layout, labels, pattern: re.Pattern[str]) -> FieldReading | None:
    """A value of the right shape bound to its label but failing its check: shown, never confident."""
    for text, item, _relation in texts_near(layout, labels):
        match = pattern.search(text.upper())
        if match:
            return FieldReading(match.group(0), item.confidence, False)
    return None


def _name_tokens(text: str) -> list[tuple[str, int]]:
    return [(m.group(0), m.start()) for m in _NAME_RE.finditer(text)]


def _names_near(layout: Layout, labels, exclude=()) -> list[tuple[str, Item]]:
    out = []
    for text, item, _relation in texts_near(layout, labels, exclude):
        for token, _start in _name_tokens(text):
            if not is_furniture(token):
                out.append((token, item))
    return out


def _person_name(layout: Layout, id_reading: FieldReading, id_cands: list[Candidate]) -> FieldReading | None:
    """The buyer's name: a CJK name bound to a buyer label, confident only beside the buyer's valid ID number."""
    id_items = [c.item for c in id_cands if c.value == id_reading.value]
    found: list[tuple[str, Item]] = _names_near(layout, BUYER_NAME_LABELS, exclude=_SELLER_WORDS)
    # the name printed in the same line as the buyer's ID number (名称及身份证号码 in one cell)
    for item in id_items:
        for token, start in _name_tokens(compact(item.text)):
            if not is_furniture(token) and start < compact(item.text).find(id_reading.value):
                found.append((token, item))
    found = [(t, it) for t, it in found if _PERSON_RE.match(t)]
    if not found:
        return None
    supported = [(t, it) for t, it in found if any(beside(it, id_item) for id_item in id_items)]
    values = {t for t, _ in supported}
    if len(values) == 1 and id_reading.confident:
        token, item = supported[0]
        return FieldReading(token, item.confidence, item.confidence >= MIN_NAME_CONFIDENCE)
    token, item = (supported or found)[0]
    return FieldReading(token, item.confidence, False)


def _seller_name(layout: Layout, code: FieldReading, code_cands: list[Candidate]) -> FieldReading | None:
    code_items = [c.item for c in code_cands if c.value == code.value]
    found = []
    for text, item, _relation in texts_near(layout, SELLER_NAME_LABELS, exclude=("购买",)):
        text = re.sub(r"[^\u3400-\u9fff()（）]", "", text)
        if len(text) >= 4 and text.endswith(_COMPANY_SUFFIXES) and not is_furniture(text.replace("公司", "")):
            found.append((text, item))
    if not found:
        return None
    supported = [(t, it) for t, it in found if any(beside(it, ci) for ci in code_items)]
    token, item = (supported or found)[0]
    # under the red seal and without check characters: demand a near-certain reading
    confident = (
        bool(supported) and code.confident and item.confidence >= 0.99 and len({t for t, _ in supported}) == 1
    )
    return FieldReading(token, item.confidence, confident)


def _words_readings(layout: Layout, cands: list[Candidate]) -> list[Candidate]:
    if cands:
        return cands
    # 大写 split over several OCR lines on one row: join them
    rows = [it for it in layout.items if words_share(it.text) >= 3]
    out = []
    for it in rows:
        row = [it, *layout.right_of(it, tolerance=0.7)]
        joined = "".join(compact(r.text) for r in row if words_share(r.text) >= 1)
        value = parse_amount_words(re.sub(r"^.*?(大写|[)）])", "", joined))
        if value is not None:
            out.append(Candidate(WORDS, value, it, 0, len(joined), joined))
    return out


def _amounts(layout: Layout, by_type: dict[str, list[Candidate]], out: dict[str, FieldReading]) -> None:
    amounts = by_type.get(AMOUNT, [])
    words = _words_readings(layout, by_type.get(WORDS, []))
    rates = {c.value for c in by_type.get(RATE, [])}
    amount_groups = distinct(amounts)
    word_groups = distinct(words)

    # 大写 = ¥
    agreed_words = [w for w in word_groups if w in amount_groups]
    # 不含税价 + 税额 = 价税合计, with the tax at a printed rate
    printed = [r for r in TAX_RATES if r in rates] or []
    triples = set()
    values = sorted(amount_groups, reverse=True)
    for total in values:
        for net in values:
            if net >= total:
                continue
            tax = total - net
            if tax in amount_groups and printed:
                rate = rate_check(total, net, tax, printed)
                if rate is not None:
                    triples.add((total, net, tax, rate))
    totals_by_sum = {t[0] for t in triples}

    figures: Decimal | None = None
    confident = False
    how = ""
    if len(agreed_words) == 1 and (not totals_by_sum or totals_by_sum == set(agreed_words)):
        figures, confident, how = agreed_words[0], True, "words"
    elif not agreed_words and len(totals_by_sum) == 1:
        figures, confident, how = next(iter(totals_by_sum)), True, "sum"
    else:
        bound = bind(layout, [c for c in amounts if c.signed] or amounts, TOTAL_LABELS)
        if bound:
            figures = bound[0].candidate.value
        elif amounts:
            figures = max(amount_groups)
    if figures is not None:
        conf = max(c.confidence for c in amount_groups.get(figures, [])) if figures in amount_groups else 0.0
        out["amount_figures"] = FieldReading(figures, conf, confident)
    if word_groups:
        if figures in word_groups:
            w = figures
        elif len(word_groups) == 1:
            w = next(iter(word_groups))
        else:
            w = None
        if w is not None:
            conf = min(c.confidence for c in word_groups[w])
            out["amount_words"] = FieldReading(w, conf, confident and how in ("words",) and w == figures)
    matching = [t for t in triples if t[0] == figures]
    if confident and len({(t[1], t[2]) for t in matching}) == 1:
        _, net, tax, rate = matching[0]
        out["net_amount"] = FieldReading(net, max(c.confidence for c in amount_groups[net]), True)
        out["tax_amount"] = FieldReading(tax, max(c.confidence for c in amount_groups[tax]), True)
        rate_conf = max(c.confidence for c in by_type[RATE] if c.value == rate)
        out["tax_rate"] = FieldReading(f"{rate}%", rate_conf, True)
        if how == "sum" and out["amount_words"].value is not None and out["amount_words"].value == figures:
            out["amount_words"] = FieldReading(figures, out["amount_words"].confidence, True)
        return
    for name, labels in (("net_amount", NET_LABELS), ("tax_amount", TAX_LABELS)):
        bound = bind(layout, amounts, labels, directions=("same", "right", "below"))
        if bound:
            cand = bound[0].candidate
            out[name] = FieldReading(cand.value, cand.confidence, False)
    rate_cands = by_type.get(RATE, [])
    if len(distinct(rate_cands)) == 1:
        cand = rate_cands[0]
        out["tax_rate"] = FieldReading(f"{cand.value}%", cand.confidence, False)


def read_invoice(lines: list[TextLine], engine: str = "") -> dict[str, FieldReading]:
    layout = Layout(lines)
    out: dict[str, FieldReading] = {name: missing() for name in FIELDS}
    by_type = page_candidates(layout.items)
    digits = by_type.get(CODE_DIGITS, [])

    # --- number and code --------------------------------------------------------------------------------------
    twenty = [c for c in digits if len(c.value) == 20]
    eight = [c for c in digits if len(c.value) == 8]
    twelve = [c for c in digits if len(c.value) == 12]
    number = _copies(layout, twenty, NUMBER_LABELS, ()) if twenty else None
    if number is None and len(distinct(twenty)) == 1 and not eight:
        cand = _unique(twenty)
        number = FieldReading(cand.value, cand.confidence, cand.confidence >= MIN_NAME_CONFIDENCE)
    if number is None:
        number = _copies(layout, eight, NUMBER_LABELS, MACHINE_NUMBER_LABELS)
    if number is not None:
        out["invoice_number"] = number
    if number is None or len(str(number.value)) != 20:
        code = _copies(layout, twelve, CODE_LABELS, MACHINE_CODE_LABELS)
        if code is not None:
            out["invoice_code"] = code

    # --- date -------------------------------------------------------------------------------------------------
    dates = by_type.get(DATE, [])
    bound = bind(layout, dates, DATE_LABELS)
    if bound:
        values = {b.candidate.value for b in bound}
        cand = bound[0].candidate
        out["invoice_date"] = FieldReading(
            cand.value, cand.confidence, len(values) == 1 and cand.confidence >= MIN_CONFIDENCE
        )
    else:
        formatted = [c for c in dates if not c.text.isdigit()]
        cand = _unique(formatted)
        if cand is not None:
            out["invoice_date"] = FieldReading(
                cand.value, cand.confidence, cand.confidence >= MIN_NAME_CONFIDENCE
            )

    # --- VIN, buyer ID, seller code -----------------------------------------------------------------------------
    vin = _checked_field(layout, by_type.get(VIN, []), VIN_LABELS) or _unverified(
        layout, VIN_LABELS, _VIN_SHAPE
    )
    if vin is not None:
        out["vin"] = vin
    ids = by_type.get(ID, [])
    buyer_id = _checked_field(layout, ids, BUYER_ID_LABELS) or _unverified(layout, BUYER_ID_LABELS, _ID_SHAPE)
    if buyer_id is not None:
        out["buyer_id_number"] = buyer_id
    codes = [c for c in by_type.get(CREDIT, []) if c.value != out["buyer_id_number"].value]
    seller = _checked_field(layout, codes, SELLER_CODE_LABELS, exclude=("身份证",))
    if seller is not None:
        out["seller_credit_code"] = FieldReading(
            seller.value, seller.confidence, seller.confident and seller.confidence >= MIN_NAME_CONFIDENCE
        )

    # --- names --------------------------------------------------------------------------------------------------
    if out["buyer_id_number"].value is not None:
        name = _person_name(layout, out["buyer_id_number"], ids)
        if name is not None:
            out["buyer_name"] = name
    if out["seller_credit_code"].value is not None:
        seller_name = _seller_name(layout, out["seller_credit_code"], codes)
        if seller_name is not None:
            out["seller_name"] = seller_name

    # --- amounts ------------------------------------------------------------------------------------------------
    _amounts(layout, by_type, out)
    for reading in out.values():
        reading.engine = engine
    return out
