"""Shared pieces of the document readers: field readings, a deskewed layout of OCR lines, label binding."""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import statistics
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..engines import TextLine
from ..labels import is_furniture

__all__ = [
    "FieldReading",
    "Item",
    "Layout",
    "find_amount",
    "find_date",
    "normalize_text",
]

# A value read with at least this OCR confidence (and valid) is reported as confident.
MIN_CONFIDENCE = 0.90
MIN_NAME_CONFIDENCE = 0.95


@dataclass
class FieldReading:
    """One field read from a document."""

    value: Any
    confidence: float
    confident: bool
    engine: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "value": json_value(self.value),
            "confidence": round(float(self.confidence), 3),
            "confident": self.confident,
        }


def json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def missing(engine: str = "") -> FieldReading:
    return FieldReading(value=None, confidence=0.0, confident=False, engine=engine)


_CJK = r"\u3400-\u9fff"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<=[{_CJK}])\s+|\s+(?=[{_CJK}])")


def normalize_text(text: str) -> str:
    """NFKC (full-width forms, Kangxi radicals in PDFs), no spaces around CJK characters, trimmed."""
    text = unicodedata.normalize("NFKC", text)
    text = _SPACE_BETWEEN_CJK.sub("", text)
    return text.strip()


def compact(text: str) -> str:
    return re.sub(r"\s+", "", text)


@dataclass
class Item:
    """An OCR line placed in the deskewed page frame."""

    text: str
    confidence: float
    x0: float
    x1: float
    y0: float
    y1: float
    engine: str

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2

    @property
    def height(self) -> float:
        return max(self.y1 - self.y0, 1.0)

    @property
    def width(self) -> float:
        return self.x1 - self.x0


def _page_angle(lines: Sequence[TextLine]) -> float:
    angles = []
    for line in lines:
        (ax, ay), (bx, by) = line.box[0], line.box[1]
        (_, _), (_, dy) = line.box[0], line.box[3]
        width = math.hypot(bx - ax, by - ay)
        height = math.hypot(line.box[3][0] - ax, dy - ay)
        if width > 3 * max(height, 1) and abs(line.angle) < 15:
            angles.append(line.angle)
    return statistics.median(angles) if len(angles) >= 3 else 0.0


class Layout:
    """OCR lines rotated into a horizontal frame, with label lookup and same-row value binding."""

    def __init__(self, lines: Iterable[TextLine], labels: Sequence[str] = ()) -> None:
        lines = [line for line in lines if line.text and line.text.strip()]
        angle = math.radians(_page_angle(lines))
        cos, sin = math.cos(-angle), math.sin(-angle)
        self.items: list[Item] = []
        for line in lines:
            pts = [(x * cos - y * sin, x * sin + y * cos) for x, y in line.box]
            xs, ys = [p[0] for p in pts], [p[1] for p in pts]
            # Height from the box edges (not the rotated envelope), so slanted boxes do not look taller.
            height = math.hypot(line.box[3][0] - line.box[0][0], line.box[3][1] - line.box[0][1]) or (
                max(ys) - min(ys)
            )
            cy = sum(ys) / len(ys)
            self.items.append(
                Item(
                    text=normalize_text(line.text),
                    confidence=float(line.confidence),
                    x0=min(xs),
                    x1=max(xs),
                    y0=cy - height / 2,
                    y1=cy + height / 2,
                    engine=line.engine,
                )
            )
        self.items.sort(key=lambda it: (it.cy, it.x0))
        self.labels = [compact(label) for label in labels]
        self.engine = lines[0].engine if lines else ""
        self._label_cache: dict[tuple, list[tuple[Item, int]]] = {}

    # --- labels -------------------------------------------------------------------------------------------------

    @staticmethod
    def _match(label: str, text: str, fuzzy: float) -> tuple[float, int] | None:
        """(score, end index in text) when ``label`` occurs in ``text`` exactly or nearly."""
        idx = text.find(label)
        if idx >= 0:
            return 1.0, idx + len(label)
        if fuzzy >= 1.0 or len(label) < 3:
            return None
        n = len(label)
        # an upper bound of the ratio of any window: characters shared with the whole line
        shared = sum((Counter(label) & Counter(text)).values())
        if 2 * shared / (2 * n - 1) < fuzzy:
            return None
        best: tuple[float, int] | None = None
        for size in (n - 1, n, n + 1):
            for start in range(0, max(1, len(text) - size + 1)):
                window = text[start : start + size]
                ratio = difflib.SequenceMatcher(None, label, window).ratio()
                if ratio >= fuzzy and (best is None or ratio > best[0]):
                    best = (ratio, start + len(window))
        return best

    def find_label(
        self, labels: Sequence[str], fuzzy: float = 0.78, exclude: Sequence[str] = ()
    ) -> list[tuple[Item, int]]:
        """Items containing one of ``labels`` (best first), with the index where the label ends."""
        key = (tuple(labels), fuzzy, tuple(exclude))
        cached = self._label_cache.get(key)
        if cached is not None:
            return list(cached)
        found: list[tuple[float, Item, int]] = []
        for item in self.items:
            text = compact(item.text)
            if any(word in text for word in exclude):
                continue
            best: tuple[float, int] | None = None
            for label in labels:
                hit = self._match(compact(label), text, fuzzy)
                if hit and (best is None or hit[0] > best[0]):
                    best = hit
            if best:
                found.append((best[0], item, best[1]))
        found.sort(key=lambda t: -t[0])
        result = [(item, end) for _, item, end in found]
        self._label_cache[key] = result
        return list(result)

    def is_label(self, item: Item) -> bool:
        text = compact(item.text)
        for label in self.labels:
            if len(label) >= 2 and label in text and len(text) <= len(label) + 2:
                return True
            if len(label) >= 4 and len(text) <= len(label) + 2:
                if difflib.SequenceMatcher(None, label, text).ratio() >= 0.75:
                    return True
        return False

    # --- rows ---------------------------------------------------------------------------------------------------

    def same_row(self, anchor: Item, tolerance: float = 0.6) -> list[Item]:
        """Items on the anchor's row, left to right."""
        row = [
            it
            for it in self.items
            if it is not anchor and abs(it.cy - anchor.cy) < tolerance * max(anchor.height, it.height)
        ]
        return sorted(row, key=lambda it: it.x0)

    def right_of(self, anchor: Item, tolerance: float = 0.6) -> list[Item]:
        return [it for it in self.same_row(anchor, tolerance) if it.x0 >= anchor.x0 + anchor.width * 0.6]

    def value_after(
        self,
        labels: Sequence[str],
        pattern: re.Pattern[str],
        *,
        exclude: Sequence[str] = (),
        row_filter=None,
        stop_at_label: bool = True,
        fuzzy: float = 0.78,
    ) -> tuple[re.Match[str], Item, Item] | None:
        """The first text matching ``pattern`` after the label: in the label's own line, then to its right."""
        for label_item, end in self.find_label(labels, fuzzy=fuzzy, exclude=exclude):
            if row_filter is not None and not row_filter(label_item):
                continue
            rest = label_item.text
            # the part of the line after the label (index is on the compacted text)
            rest = compact(rest)[end:]
            match = pattern.search(rest)
            if match:
                return match, label_item, label_item
            for item in self.right_of(label_item):
                if stop_at_label and self.is_label(item):
                    break
                match = pattern.search(compact(item.text))
                if match:
                    return match, item, label_item
        return None


# --- value parsing ----------------------------------------------------------------------------------------------

AMOUNT_RE = re.compile(r"(?P<sign>[¥YV羊半])?(?P<num>\d{1,3}(?:,\d{3})+\.\d{2}|\d+\.\d{2})(?!\d)")
DATE_RE = re.compile(r"(?P<y>(?:19|20)\d{2})[年\-./](?P<m>\d{1,2})[月\-./](?P<d>\d{1,2})日?")


def to_decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", ""))
    except (InvalidOperation, ValueError):
        return None


def find_amount(text: str) -> tuple[Decimal, bool] | None:
    """(amount, whether a currency sign was printed) from the first amount in ``text``."""
    match = AMOUNT_RE.search(compact(text))
    if not match:
        return None
    value = to_decimal(match.group("num"))
    if value is None:
        return None
    return value, bool(match.group("sign"))


def parse_date(match: re.Match[str]) -> dt.date | None:
    try:
        return dt.date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
    except ValueError:
        return None


def find_date(text: str) -> dt.date | None:
    match = DATE_RE.search(compact(text))
    return parse_date(match) if match else None


_VIN_FIX = str.maketrans({"O": "0", "I": "1", "Q": "0"})


def vin_candidates(text: str) -> list[str]:
    text = compact(text).upper().translate(_VIN_FIX)
    return re.findall(r"(?<![A-Z0-9])[A-HJ-NPR-Z0-9]{17}(?![A-Z0-9])", text)


def read_name_after(
    layout: Layout, labels: list[str], pattern: re.Pattern[str], engine: str, **find: Any
) -> FieldReading | None:
    """A name printed after its label, on the label's own line or on the first item right of it.

    Bound to the label so that another name on the document (a seller, an issuer) is never taken instead.
    """
    for label_item, end in layout.find_label(labels, **find):
        rest = compact(label_item.text)[end:]
        candidates = [(rest, label_item)] if rest else []
        candidates += [
            (compact(it.text), it) for it in layout.right_of(label_item)[:1] if not layout.is_label(it)
        ]
        for text, item in candidates:
            if pattern.match(text) and not is_furniture(text):
                return FieldReading(text, item.confidence, item.confidence >= MIN_NAME_CONFIDENCE, engine)
        return None
    return None
