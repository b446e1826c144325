"""Money: Decimal with two places, one quantize helper, strings on the wire."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# Every money input: at most 10 digits before the point and at most two after (¥9,999,999,999.99 at most); no
# exponents, so "1e400" or "1E+20" never reach the arithmetic. Thousands separators and a leading ¥ are allowed.
MAX_INTEGER_DIGITS = 10
_MONEY_RE = re.compile(rf"-?[0-9]{{1,{MAX_INTEGER_DIGITS}}}(\.[0-9]{{0,2}})?")
_MAX_MONEY_TEXT = 40


def quantize(value: Decimal | int | str) -> Decimal:
    """Round to the fen. Accepts Decimal, int or a decimal string; floats are refused on purpose."""
    if isinstance(value, float):
        raise TypeError("money must never be a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(raw: object) -> Decimal | None:
    """Parse a money value as sent by a client: a decimal with at most 10 digits before the point and two after.

    None when it is not one (exponents, NaN, infinity, more digits, other characters). The sign is kept so a
    caller can say "must not be negative"; `parse_amount` is the parser for amounts that must be positive.
    """
    if raw is None or isinstance(raw, float | bool):
        return None
    if isinstance(raw, int):
        raw = str(raw)
    if not isinstance(raw, str | Decimal) or len(str(raw)) > _MAX_MONEY_TEXT:
        return None
    text = str(raw).strip().replace(",", "").replace("，", "")
    if text.startswith(("¥", "￥")):
        text = text[1:].strip()
    if not _MONEY_RE.fullmatch(text):
        return None
    try:
        return quantize(Decimal(text))
    except (InvalidOperation, ValueError):  # pragma: no cover - the pattern admits only plain decimals
        return None


def parse_amount(raw: object) -> Decimal | None:
    """A money input that must be greater than zero (invoice, POS and paid amounts, quotes); None otherwise."""
    value = parse_money(raw)
    return value if value is not None and value > 0 else None


def money_str(value: Decimal | None) -> str | None:
    return None if value is None else f"{quantize(value):.2f}"


def money_display(value: Decimal) -> str:
    """¥158,000.00 — how amounts are shown to people."""
    return f"¥{quantize(value):,.2f}"
