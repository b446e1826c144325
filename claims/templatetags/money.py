"""`{{ amount|money }}`: an amount as people read it, ¥158,000.00 (claims.money.money_display)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import template

from claims.money import money_display

register = template.Library()


@register.filter
def money(value) -> str:
    if value is None or value == "":
        return "—"
    try:
        return money_display(Decimal(str(value)))
    except (InvalidOperation, TypeError, ValueError):
        return str(value)
