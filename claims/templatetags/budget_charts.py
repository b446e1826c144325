"""`{% budget_chart_for program as chart %}`: the data of the budget-over-time chart."""

from __future__ import annotations

from django import template

from claims.reports.services import budget_chart

register = template.Library()


@register.simple_tag
def budget_chart_for(program):
    return budget_chart(program)
