"""`{% budget_chart_for program as chart %}`: the data of the budget-over-time chart (issue 7)."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def budget_chart_for(program):
    from claims.services.reports import budget_chart

    return budget_chart(program)
