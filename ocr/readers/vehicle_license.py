"""机动车行驶证 (main page): plate, owner, VIN, registration and issue dates."""

from __future__ import annotations

import re

from ..engines import TextLine
from ..validators import is_valid_vin
from .base import (
    DATE_RE,
    MIN_CONFIDENCE,
    FieldReading,
    Layout,
    compact,
    missing,
    parse_date,
    read_name_after,
    vin_candidates,
)

__all__ = ["FIELDS", "REQUIRED", "read_vehicle_license"]

FIELDS = ("plate_number", "owner", "vin", "register_date", "issue_date")
REQUIRED = ("plate_number", "vin", "issue_date")
LABELS = (
    "中华人民共和国机动车行驶证",
    "号牌号码",
    "车辆类型",
    "所有人",
    "住址",
    "使用性质",
    "品牌型号",
    "车辆识别代号",
    "发动机号码",
    "注册日期",
    "发证日期",
)
_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
# 7 characters (fuel) or 8 (new energy: D/F after the city letter, or at the end for large vehicles).
PLATE_RE = re.compile(rf"[{_PROVINCES}][A-HJ-NP-Z][A-HJ-NP-Z0-9]{{5,6}}(?![A-Z0-9])")
_NAME_RE = re.compile(r"^[\u3400-\u9fff·()（）]{2,40}$")


def read_vehicle_license(lines: list[TextLine], engine: str = "") -> dict[str, FieldReading]:
    layout = Layout(lines, LABELS)
    out = {name: missing(engine) for name in FIELDS}

    # The plate is printed with a separator dot (晋J·D12345): drop separators before matching.
    for label_item, end in layout.find_label(["号牌号码"]):
        for item in [label_item, *layout.right_of(label_item)]:
            if item is not label_item and layout.is_label(item):
                break
            text = compact(item.text)[end if item is label_item else 0 :]
            match = PLATE_RE.search(re.sub(r"[·.。•・\-]", "", text).upper())
            if match:
                conf = item.confidence
                out["plate_number"] = FieldReading(match.group(0), conf, conf >= MIN_CONFIDENCE, engine)
                break
        break

    name = read_name_after(layout, ["所有人"], _NAME_RE, engine)
    if name is not None:
        out["owner"] = name

    for label_item, end in layout.find_label(["车辆识别代号", "车架号"]):
        found = [(v, label_item) for v in vin_candidates(compact(label_item.text)[end:])]
        if not found:
            for item in layout.right_of(label_item):
                values = vin_candidates(item.text)
                if values:
                    found = [(values[0], item)]
                    break
        if found:
            value, item = found[0]
            ok = is_valid_vin(value)
            out["vin"] = FieldReading(
                value, item.confidence, ok and item.confidence >= MIN_CONFIDENCE, engine
            )
            break

    # The owner's name has no check character: confident only on a licence whose VIN was read and verified.
    if out["owner"].confident and not out["vin"].confident:
        out["owner"].confident = False

    for name, label in (("register_date", "注册日期"), ("issue_date", "发证日期")):
        hit = layout.value_after([label], DATE_RE, stop_at_label=True)
        if hit:
            date = parse_date(hit[0])
            if date:
                conf = hit[1].confidence
                out[name] = FieldReading(date, conf, conf >= MIN_CONFIDENCE, engine)
    return out
