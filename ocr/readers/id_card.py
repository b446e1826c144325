"""Resident ID card: front (name, number) and back (issuing office, validity period)."""

from __future__ import annotations

import datetime as dt
import re

from ..engines import TextLine
from ..validators import is_valid_id_number
from .base import MIN_CONFIDENCE, MIN_NAME_CONFIDENCE, FieldReading, Layout, compact, missing, read_name_after

__all__ = ["BACK_FIELDS", "FRONT_FIELDS", "read_id_card_back", "read_id_card_front"]

FRONT_FIELDS = ("name", "id_number")
FRONT_REQUIRED = ("name", "id_number")
BACK_FIELDS = ("issuer", "valid_from", "valid_until")
BACK_REQUIRED: tuple[str, ...] = ()
FRONT_LABELS = ("姓名", "性别", "民族", "出生", "住址", "公民身份号码")
BACK_LABELS = ("中华人民共和国", "居民身份证", "签发机关", "有效期限")
_ID_RE = re.compile(r"(?<![0-9A-Z])\d{17}[\dX](?![0-9A-Z])")
_NAME_RE = re.compile(r"^(?:[\u3400-\u9fff]{2,4}|[\u3400-\u9fff]{1,8}(?:·[\u3400-\u9fff]{1,8}){1,3})$")
_PERIOD_RE = re.compile(
    r"(\d{4})[.\-/](\d{2})[.\-/](\d{2})[-—~至]+(?:(\d{4})[.\-/](\d{2})[.\-/](\d{2})|(长期))"
)


def read_id_card_front(lines: list[TextLine], engine: str = "") -> dict[str, FieldReading]:
    layout = Layout(lines, FRONT_LABELS)
    out = {name: missing(engine) for name in FRONT_FIELDS}
    name = read_name_after(layout, ["姓名"], _NAME_RE, engine, fuzzy=1.0)
    if name is not None:
        out["name"] = name
    hit = layout.value_after(["公民身份号码", "身份号码"], _ID_RE)
    if hit is None:
        # The number is printed alone on the bottom line; accept it only when it is the only ID-shaped text.
        found = [
            (m.group(0), it) for it in layout.items for m in [_ID_RE.search(compact(it.text).upper())] if m
        ]
        if len(found) == 1:
            value, item = found[0]
            ok = is_valid_id_number(value)
            out["id_number"] = FieldReading(value, item.confidence * 0.9, False, engine)
    else:
        match, item, _ = hit
        value = match.group(0)
        ok = is_valid_id_number(value)
        out["id_number"] = FieldReading(
            value, item.confidence, ok and item.confidence >= MIN_CONFIDENCE, engine
        )
    # A name has no check character: confident only on a card whose number was read and verified.
    if out["name"].confident and not out["id_number"].confident:
        out["name"].confident = False
    return out


def read_id_card_back(lines: list[TextLine], engine: str = "") -> dict[str, FieldReading]:
    layout = Layout(lines, BACK_LABELS)
    out = {name: missing(engine) for name in BACK_FIELDS}
    hit = layout.value_after(["签发机关"], re.compile(r"[\u3400-\u9fff]{4,30}"))
    if hit:
        conf = hit[1].confidence
        out["issuer"] = FieldReading(hit[0].group(0), conf, conf >= MIN_NAME_CONFIDENCE, engine)
    hit = layout.value_after(["有效期限"], _PERIOD_RE)
    if hit:
        match, item, _ = hit
        conf = item.confidence
        try:
            start = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            out["valid_from"] = FieldReading(start, conf, conf >= MIN_CONFIDENCE, engine)
            if match.group(7):
                out["valid_until"] = FieldReading("长期", conf, conf >= MIN_CONFIDENCE, engine)
            else:
                end = dt.date(int(match.group(4)), int(match.group(5)), int(match.group(6)))
                out["valid_until"] = FieldReading(end, conf, conf >= MIN_CONFIDENCE and end > start, engine)
        except ValueError:
            pass
    return out
