"""机动车销售统一发票 (paper: 12-digit code + 8-digit number; fully digital: one 20-digit number)."""

from __future__ import annotations

import re
from decimal import Decimal

from ..engines import TextLine
from ..numerals import parse_amount_words
from ..validators import is_valid_credit_code, is_valid_id_number, is_valid_vin
from .base import (
    AMOUNT_RE,
    DATE_RE,
    MIN_CONFIDENCE,
    MIN_NAME_CONFIDENCE,
    FieldReading,
    Item,
    Layout,
    compact,
    missing,
    parse_date,
    to_decimal,
    vin_candidates,
)

__all__ = ["FIELDS", "REQUIRED", "TAX_RATES", "amount_consensus", "read_invoice"]

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

LABELS = (
    "机动车销售统一发票",
    "发票代码",
    "发票号码",
    "开票日期",
    "机打代码",
    "机打号码",
    "机器编号",
    "税控码",
    "购买方名称",
    "纳税人识别号/统一社会信用代码/身份证号码",
    "车辆类型",
    "厂牌型号",
    "产地",
    "合格证号",
    "进口证明书号",
    "商检单号",
    "发动机号码",
    "车辆识别代号/车架号码",
    "价税合计",
    "小写",
    "大写",
    "销货单位名称",
    "电话",
    "纳税人识别号/统一社会信用代码",
    "账号",
    "地址",
    "开户银行",
    "增值税税率或征收率",
    "增值税税额",
    "主管税务机关及代码",
    "不含税价",
    "完税凭证号码",
    "吨位",
    "限乘人数",
    "销货单位盖章",
    "开票人",
    "备注",
)

_WORD_CHARS = set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整正参叄參貳陸圓染抬")
_NAME_RE = re.compile(r"^[\u3400-\u9fff·()（）]{2,40}$")
_ID_RE = re.compile(r"(?<![0-9A-Z])\d{17}[\dX](?![0-9A-Z])")
_CREDIT_RE = re.compile(r"(?<![0-9A-Z])[0-9A-HJ-NPQRTUWXY]{18}(?![0-9A-Z])")
_RATE_RE = re.compile(r"(?<!\d)(\d{1,2})%")


def _digits(count: int | tuple[int, ...]) -> re.Pattern[str]:
    counts = (count,) if isinstance(count, int) else count
    alts = "|".join(rf"\d{{{c}}}" for c in sorted(counts, reverse=True))
    return re.compile(rf"(?<!\d)(?:{alts})(?!\d)")


def _row_value(layout: Layout, anchor: Item | None, pattern: re.Pattern[str]) -> tuple[str, Item] | None:
    if anchor is None:
        return None
    for item in layout.right_of(anchor):
        match = pattern.search(compact(item.text).upper())
        if match:
            return match.group(0), item
    return None


def _label_item(layout: Layout, labels, exclude=(), fuzzy=0.78, where=None) -> tuple[Item, int] | None:
    for item, end in layout.find_label(labels, fuzzy=fuzzy, exclude=exclude):
        if where is None or where(item):
            return item, end
    return None


def _amount_in(text: str) -> Decimal | None:
    match = AMOUNT_RE.search(compact(text))
    return to_decimal(match.group("num")) if match else None


def rate_check(total: Decimal, net: Decimal, tax: Decimal) -> int | None:
    """The tax rate (in %) for which net + tax == total and tax == total * r / (1 + r) within 0.01, if any."""
    if net + tax != total:
        return None
    for rate in TAX_RATES:
        expected = total * Decimal(rate) / (100 + Decimal(rate))
        if abs(expected - tax) <= _CENT:
            return rate
    return None


def amount_consensus(
    figures: Decimal | None, words: Decimal | None, net: Decimal | None, tax: Decimal | None
) -> tuple[Decimal | None, set[str]]:
    """The total that two independent readings agree on, and which readings agree.

    Readings: the ¥ figures, the 大写 words, and net + tax when it also passes the tax-rate check.
    """
    readings: dict[str, Decimal] = {}
    if figures is not None:
        readings["figures"] = figures
    if words is not None:
        readings["words"] = words
    if net is not None and tax is not None:
        total = net + tax
        if rate_check(total, net, tax) is not None:
            readings["sum"] = total
    best: tuple[Decimal | None, set[str]] = (None, set())
    for value in set(readings.values()):
        agreeing = {k for k, v in readings.items() if v == value}
        if len(agreeing) >= 2 and len(agreeing) > len(best[1]):
            best = (value, agreeing)
    return best


def _net_and_tax_by_elimination(layout, total_row, figures, words, net, tax, net_conf, tax_conf):
    """When a label is unreadable: the only other amounts below the total row are 不含税价 and 税额.

    A pair is taken only when it passes the sum and the tax-rate check against a total read independently, so a
    wrong pairing cannot produce a confirmation.
    """
    totals = {t for t in (figures, words) if t is not None}
    if not totals:
        return net, tax, net_conf, tax_conf
    amounts: list[tuple[Decimal, float]] = []
    for item in layout.items:
        if item.cy <= total_row.cy + total_row.height * 0.7:
            continue
        for match in AMOUNT_RE.finditer(compact(item.text)):
            value = to_decimal(match.group("num"))
            if value is not None and value not in totals:
                amounts.append((value, item.confidence))
    pairs = []
    for big, big_conf in amounts:
        for small, small_conf in amounts:
            if net is not None and big != net or tax is not None and small != tax:
                continue
            if big > small and any(rate_check(t, big, small) is not None for t in totals):
                pairs.append((big, small, big_conf, small_conf))
    if len({(p[0], p[1]) for p in pairs}) == 1:
        return pairs[0]
    return net, tax, net_conf, tax_conf


def _seller_name_ok(name: str, confidence: float) -> bool:
    """The seller's name lies under the red seal and has no check character: demand a near-certain reading."""
    return confidence >= 0.99 and name.endswith(("公司", "有限公司", "厂", "中心", "店"))


def read_invoice(lines: list[TextLine], engine: str = "") -> dict[str, FieldReading]:
    layout = Layout(lines, LABELS)
    out: dict[str, FieldReading] = {name: missing(engine) for name in FIELDS}

    # --- anchors (rows) -----------------------------------------------------------------------------------------
    total_label = _label_item(layout, ["价税合计"])
    if total_label is None:
        # The label is unreadable: the 大写 amount itself marks the row.
        scored = [(sum(ch in _WORD_CHARS for ch in compact(it.text)), it) for it in layout.items]
        scored = [(n, it) for n, it in scored if n >= 4]
        if scored:
            total_label = (max(scored, key=lambda t: t[0])[1], 0)
    total_row = total_label[0] if total_label else None
    buyer_label = _label_item(layout, ["购买方名称"], exclude=["销货"])
    seller_label = _label_item(layout, ["销货单位名称", "销售方名称"])

    def above_total(item: Item) -> bool:
        return total_row is None or item.cy < total_row.cy

    def below_total(item: Item) -> bool:
        return total_row is None or item.cy > total_row.cy

    # --- code and number (two printed copies on paper invoices) -------------------------------------------------
    def copy_of(labels, count, exclude=()):
        hit = layout.value_after(labels, _digits(count), exclude=exclude)
        if not hit:
            return None
        match, item, _ = hit
        return match.group(0), item.confidence

    code_top = copy_of(["发票代码"], 12)
    code_machine = copy_of(["机打代码"], 12)
    number_top = copy_of(["发票号码"], (20, 8), exclude=["机打"])
    number_machine = copy_of(["机打号码"], 8)
    for name, first, second in (
        ("invoice_code", code_top, code_machine),
        ("invoice_number", number_top, number_machine),
    ):
        readings = [r for r in (first, second) if r]
        if not readings:
            continue
        value, conf = max(readings, key=lambda r: r[1])
        agree = len(readings) == 2 and readings[0][0] == readings[1][0]
        disagree = len(readings) == 2 and not agree
        confident = not disagree and (
            (agree and min(r[1] for r in readings) >= MIN_CONFIDENCE) or (conf >= MIN_NAME_CONFIDENCE)
        )
        out[name] = FieldReading(value, conf, confident, engine)
    # A 20-digit number means a fully digital invoice, which has no code.
    if out["invoice_number"].value and len(out["invoice_number"].value) == 20:
        out["invoice_code"] = FieldReading(None, out["invoice_number"].confidence, False, engine)

    # --- date ---------------------------------------------------------------------------------------------------
    hit = layout.value_after(["开票日期"], DATE_RE, stop_at_label=False)
    if hit:
        date = parse_date(hit[0])
        if date:
            conf = hit[1].confidence
            out["invoice_date"] = FieldReading(
                date, conf, conf >= MIN_CONFIDENCE and 2000 <= date.year <= 2100, engine
            )

    # --- buyer --------------------------------------------------------------------------------------------------
    if buyer_label:
        item, end = buyer_label
        rest = compact(item.text)[end:]
        name_item = None
        if _NAME_RE.match(rest or ""):
            name_value, name_item = rest, item
        else:
            for candidate in layout.right_of(item):
                if layout.is_label(candidate):
                    break
                text = compact(candidate.text)
                if _NAME_RE.match(text):
                    name_value, name_item = text, candidate
                break
        if name_item is not None:
            conf = name_item.confidence
            out["buyer_name"] = FieldReading(name_value, conf, conf >= MIN_NAME_CONFIDENCE, engine)
    id_label = _label_item(
        layout,
        ["纳税人识别号/统一社会信用代码/身份证号码", "身份证号码", "组织机构代码"],
        where=lambda it: (
            above_total(it) and (buyer_label is None or abs(it.cy - buyer_label[0].cy) < 2 * it.height)
        ),
    )
    id_hit = None
    if id_label:
        id_hit = _row_value(layout, id_label[0], _ID_RE)
        rest = compact(id_label[0].text)[id_label[1] :]
        if not id_hit and _ID_RE.search(rest):
            id_hit = (_ID_RE.search(rest).group(0), id_label[0])
    if id_hit is None and buyer_label:
        # the label is unreadable: only an ID on the buyer's own row counts
        id_hit = _row_value(layout, buyer_label[0], _ID_RE)
    if id_hit:
        value, item = id_hit
        valid = is_valid_id_number(value)
        out["buyer_id_number"] = FieldReading(
            value, item.confidence, valid and item.confidence >= MIN_CONFIDENCE, engine
        )

    # --- VIN ----------------------------------------------------------------------------------------------------
    vin_label = _label_item(layout, ["车辆识别代号/车架号码", "车辆识别代号", "车架号码"])
    if vin_label:
        item, end = vin_label
        candidates = [(v, item) for v in vin_candidates(compact(item.text)[end:])]
        if not candidates:
            for other in layout.right_of(item):
                found = vin_candidates(other.text)
                if found:
                    candidates = [(found[0], other)]
                    break
        if candidates:
            value, vitem = candidates[0]
            ok = is_valid_vin(value)
            out["vin"] = FieldReading(
                value, vitem.confidence, ok and vitem.confidence >= MIN_CONFIDENCE, engine
            )

    # --- the amounts --------------------------------------------------------------------------------------------
    figures: Decimal | None = None
    figures_conf = 0.0
    words: Decimal | None = None
    words_conf = 0.0
    if total_row is not None:
        row = [total_row, *layout.right_of(total_row, tolerance=0.7)]
        word_text = ""
        word_items = []
        for it in row:
            text = compact(it.text)
            if it is total_row:
                text = text[total_label[1] :]
            if sum(ch in _WORD_CHARS for ch in text) >= 3:
                word_text += re.sub(r"^.*?(大写|[)）])", "", text) if "大写" in text else text
                word_items.append(it)
            elif AMOUNT_RE.search(text) and figures is None:
                figures = _amount_in(text)
                figures_conf = it.confidence
        if word_items:
            words = parse_amount_words(word_text)
            words_conf = min(it.confidence for it in word_items)
            if words is None:
                out["amount_words"] = FieldReading(None, words_conf, False, engine)
    net = tax = None
    net_conf = tax_conf = 0.0
    net_hit = layout.value_after(["不含税价"], AMOUNT_RE, stop_at_label=False, row_filter=below_total)
    if net_hit:
        net, net_conf = to_decimal(net_hit[0].group("num")), net_hit[1].confidence
    tax_hit = layout.value_after(
        ["增值税税额", "税额"], AMOUNT_RE, stop_at_label=False, row_filter=below_total
    )
    if tax_hit:
        tax, tax_conf = to_decimal(tax_hit[0].group("num")), tax_hit[1].confidence
    if (net is None or tax is None) and total_row is not None:
        net, tax, net_conf, tax_conf = _net_and_tax_by_elimination(
            layout, total_row, figures, words, net, tax, net_conf, tax_conf
        )
    rate_hit = layout.value_after(["增值税税率或征收率", "征收率"], _RATE_RE, stop_at_label=False)
    printed_rate = int(rate_hit[0].group(1)) if rate_hit else None

    agreed, agreeing = amount_consensus(figures, words, net, tax)
    if figures is not None:
        out["amount_figures"] = FieldReading(
            figures, figures_conf, agreed is not None and figures == agreed and "figures" in agreeing, engine
        )
    if words is not None:
        out["amount_words"] = FieldReading(
            words, words_conf, agreed is not None and words == agreed and "words" in agreeing, engine
        )
    sum_ok = "sum" in agreeing
    if net is not None:
        out["net_amount"] = FieldReading(net, net_conf, sum_ok, engine)
    if tax is not None:
        out["tax_amount"] = FieldReading(tax, tax_conf, sum_ok, engine)
    checked_rate = rate_check(net + tax, net, tax) if net is not None and tax is not None else None
    if printed_rate is not None:
        conf = rate_hit[1].confidence
        out["tax_rate"] = FieldReading(
            f"{printed_rate}%", conf, sum_ok and checked_rate == printed_rate, engine
        )

    # --- seller -------------------------------------------------------------------------------------------------
    if seller_label:
        item, end = seller_label
        rest = compact(item.text)[end:]
        if _NAME_RE.match(rest or "") and len(rest) >= 4:
            out["seller_name"] = FieldReading(
                rest, item.confidence, _seller_name_ok(rest, item.confidence), engine
            )
        else:
            for candidate in layout.right_of(item):
                if layout.is_label(candidate):
                    break
                text = compact(candidate.text)
                if _NAME_RE.match(text) and len(text) >= 4:
                    conf = candidate.confidence
                    out["seller_name"] = FieldReading(text, conf, _seller_name_ok(text, conf), engine)
                break
    credit_label = _label_item(
        layout,
        ["纳税人识别号/统一社会信用代码", "统一社会信用代码", "纳税人识别号"],
        exclude=["身份证"],
        where=lambda it: below_total(it) and (seller_label is None or it.cy > seller_label[0].cy - it.height),
    )
    if credit_label:
        item, end = credit_label
        rest = compact(item.text)[end:].upper()
        hit = (
            (_CREDIT_RE.search(rest).group(0), item)
            if _CREDIT_RE.search(rest)
            else _row_value(layout, item, _CREDIT_RE)
        )
        if hit:
            value, vitem = hit
            ok = is_valid_credit_code(value) and value != out["buyer_id_number"].value
            out["seller_credit_code"] = FieldReading(
                value, vitem.confidence, ok and vitem.confidence >= MIN_CONFIDENCE, engine
            )
    if out["seller_credit_code"].value is None and seller_label is not None:
        # Label unreadable: a valid credit code within the seller block (the two rows under the seller's name).
        block = [
            it
            for it in layout.items
            if seller_label[0].cy - it.height * 0.5
            < it.cy
            < seller_label[0].cy + 2.5 * seller_label[0].height * 2.2
            and below_total(it)
        ]
        found = {}
        for it in block:
            for value in _CREDIT_RE.findall(compact(it.text).upper()):
                if is_valid_credit_code(value) and value != out["buyer_id_number"].value:
                    found.setdefault(value, it)
        if len(found) == 1:
            value, vitem = next(iter(found.items()))
            out["seller_credit_code"] = FieldReading(
                value, vitem.confidence, vitem.confidence >= MIN_CONFIDENCE, engine
            )
    return out
