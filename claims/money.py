"""Money: Decimal with two places, one quantize helper, strings on the wire."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def quantize(value: Decimal | int | str) -> Decimal:
    """Round to the fen. Accepts Decimal, int or a decimal string; floats are refused on purpose."""
    if isinstance(value, float):
        raise TypeError("money must never be a float")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def parse_money(raw: object) -> Decimal | None:
    """Parse a money string as sent by a client: digits with at most two decimals. None when it is not one."""
    if raw is None or isinstance(raw, float | bool):
        return None
    text = str(raw).strip().replace(",", "").replace("，", "")
    if text.startswith(("¥", "￥")):
        text = text[1:].strip()
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    if not value.is_finite() or value.as_tuple().exponent < -2:  # type: ignore[operator]
        return None
    return quantize(value)


def money_str(value: Decimal | None) -> str | None:
    return None if value is None else f"{quantize(value):.2f}"


def money_display(value: Decimal) -> str:
    """¥158,000.00 — how amounts are shown to people."""
    return f"¥{quantize(value):,.2f}"
