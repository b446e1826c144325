"""Binding candidates to labels in every direction a real form uses.

A value belongs to a label when it follows the label in the same OCR line (after a colon or not), when it is the
first value to the right on the label's row (no other label between), or when it is printed below the label in
the same cell or column.  ``beside`` says whether two lines sit together (same line, same row close by, or the
next rows of the same block): the independent support a name needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from ..labels import clean, is_label_text, starts_with_label
from .base import Item, Layout, compact
from .candidates import Candidate

__all__ = ["Bound", "beside", "bind", "distinct", "texts_near"]

SAME, RIGHT, BELOW = "same", "right", "below"
_ORDER = {SAME: 0, RIGHT: 1, BELOW: 2}


@dataclass(frozen=True)
class Bound:
    candidate: Candidate
    label: Item
    relation: str
    distance: float

    @property
    def rank(self) -> tuple[int, float]:
        return _ORDER[self.relation], self.distance


def _below(layout: Layout, label: Item, max_rows: float = 3.2) -> list[Item]:
    """Lines under the label in its column (overlapping it horizontally), nearest first, up to the next label."""
    h = label.height
    out = []
    for it in layout.items:
        if it is label or not (label.cy + 0.5 * h < it.cy < label.cy + max_rows * h):
            continue
        if it.x1 < label.x0 - 1.5 * h or it.x0 > label.x1 + 1.0 * h:
            continue
        out.append(it)
    out.sort(key=lambda it: it.cy)
    result = []
    for it in out:
        if is_label_text(it.text):
            break
        result.append(it)
    return result


def label_items(
    layout: Layout, terms: Sequence[str], exclude: Sequence[str] = (), fuzzy: float = 0.8
) -> list[tuple[Item, int]]:
    return layout.find_label(terms, fuzzy=fuzzy, exclude=exclude)


def bind(
    layout: Layout,
    candidates: Iterable[Candidate],
    terms: Sequence[str],
    *,
    exclude: Sequence[str] = (),
    directions: Sequence[str] = (SAME, RIGHT, BELOW),
    where: Callable[[Item], bool] | None = None,
) -> list[Bound]:
    """The candidates bound to one of the labels ``terms``, best first."""
    candidates = list(candidates)
    by_item: dict[int, list[Candidate]] = {}
    for cand in candidates:
        by_item.setdefault(id(cand.item), []).append(cand)
    found: list[Bound] = []
    for label, end in label_items(layout, terms, exclude):
        if where is not None and not where(label):
            continue
        if SAME in directions:
            for cand in by_item.get(id(label), []):
                if cand.start >= end:
                    found.append(Bound(cand, label, SAME, cand.start - end))
        if RIGHT in directions:
            own = {clean(term) for term in terms}
            for it in layout.right_of(label):
                prefix = starts_with_label(it.text)
                if is_label_text(it.text) or (prefix and prefix not in own):
                    break
                hits = by_item.get(id(it), [])
                for cand in hits:
                    found.append(Bound(cand, label, RIGHT, it.x0 - label.x1))
                if hits:
                    break
        if BELOW in directions:
            below = _below(layout, label)
            for it in below:
                if abs(it.cy - below[0].cy) >= 0.6 * it.height:
                    break
                for cand in by_item.get(id(it), []):
                    found.append(Bound(cand, label, BELOW, it.cy - label.cy))
    found.sort(key=lambda b: b.rank)
    return found


def texts_near(
    layout: Layout, terms: Sequence[str], exclude: Sequence[str] = ()
) -> list[tuple[str, Item, str]]:
    """The text bound to a label (same line after it, first line to its right, first line below)."""
    out: list[tuple[str, Item, str]] = []
    for label, end in label_items(layout, terms, exclude):
        rest = compact(label.text)[end:]
        if rest:
            out.append((rest, label, SAME))
        for it in layout.right_of(label)[:1]:
            if not is_label_text(it.text) and not starts_with_label(it.text):
                out.append((compact(it.text), it, RIGHT))
        below = _below(layout, label)
        for it in below:
            if abs(it.cy - below[0].cy) < 0.6 * it.height:
                out.append((compact(it.text), it, BELOW))
    return out


def beside(a: Item, b: Item) -> bool:
    """``b`` sits with ``a``: the same line, further along the same row, or in the next rows of the same block."""
    if a is b:
        return True
    h = max(a.height, b.height)
    if abs(a.cy - b.cy) < 0.7 * h:
        return b.x0 >= a.x0 and b.x0 - a.x1 < 25 * h
    if 0 < b.cy - a.cy < 3.5 * h:
        return b.x1 > a.x0 - 2 * h and b.x0 < a.x1 + 20 * h
    return False


def distinct(candidates: Iterable[Candidate]) -> dict:
    """Candidates grouped by value."""
    groups: dict = {}
    for cand in candidates:
        groups.setdefault(cand.value, []).append(cand)
    return groups
