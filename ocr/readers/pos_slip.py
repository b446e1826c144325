"""POS 签购单: amount and transaction date."""

from __future__ import annotations

import re

from ..engines import TextLine
from .base import DATE_RE, MIN_CONFIDENCE, FieldReading, Layout, compact, missing, parse_date, to_decimal

__all__ = ["FIELDS", "REQUIRED", "read_pos_slip"]

FIELDS = ("amount", "date")
REQUIRED = ("amount", "date")
LABELS = (
    "商户名称",
    "商户编号",
    "终端编号",
    "卡号",
    "交易类型",
    "批次号",
    "凭证号",
    "日期/时间",
    "金额",
    "备注",
)
_AMOUNT_RE = re.compile(r"(?:RMB|CNY|¥|Y)?:?(?P<num>\d{1,3}(?:,\d{3})+\.\d{2}|\d+\.\d{2})(?!\d)")


def read_pos_slip(lines: list[TextLine], engine: str = "") -> dict[str, FieldReading]:
    layout = Layout(lines, LABELS)
    out = {name: missing(engine) for name in FIELDS}
    for label_item, end in layout.find_label(["金额(AMOUNT)", "金额", "AMOUNT"], exclude=["总金额"]):
        # on the label's line, or on the first line below it
        rest = compact(label_item.text)[end:].upper()
        candidates = [(rest, label_item)]
        below = [it for it in layout.items if it.cy > label_item.cy + label_item.height * 0.6]
        below.sort(key=lambda it: it.cy)
        candidates += [(compact(it.text).upper(), it) for it in below[:1]]
        candidates += [(compact(it.text).upper(), it) for it in layout.right_of(label_item)]
        for text, item in candidates:
            match = _AMOUNT_RE.search(text)
            if match and ("RMB" in text or "¥" in text or item is label_item or "CNY" in text):
                value = to_decimal(match.group("num"))
                if value is not None:
                    conf = item.confidence
                    out["amount"] = FieldReading(value, conf, conf >= 0.95, engine)
                    break
        if out["amount"].value is not None:
            break
    hit = layout.value_after(["日期/时间", "DATE/TIME", "日期"], DATE_RE, stop_at_label=False)
    if hit:
        date = parse_date(hit[0])
        if date:
            conf = hit[1].confidence
            out["date"] = FieldReading(date, conf, conf >= MIN_CONFIDENCE, engine)
    return out
