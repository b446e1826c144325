"""The admin home's shortcuts: only the pages the user's roles may open (no link ends in a 403)."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from claims.accounts.roles import AUDITOR, CLAIM_READERS, CLERK, FINANCE, REVIEWER, has_role

register = template.Library()

# (label, url name, query string, roles that may open it)
SHORTCUTS = (
    (_("工作台：预算与申请概况"), "admin:claims_claim_dashboard", "", CLAIM_READERS),
    (_("待审核申请"), "admin:claims_claim_changelist", "?status__exact=under_review", (REVIEWER,)),
    (_("窗口受理"), "admin:claims_claim_counter", "", (REVIEWER, CLERK)),
    (_("新建发放批次"), "admin:claims_payoutbatch_create", "", (FINANCE,)),
    (
        _("待复核的发放批次"),
        "admin:claims_payoutbatch_changelist",
        "?status__exact=created",
        (FINANCE, AUDITOR),
    ),
    (
        _("已复核、待回盘的发放批次"),
        "admin:claims_payoutbatch_changelist",
        "?status__exact=approved",
        (FINANCE, AUDITOR),
    ),
    (_("发放失败的指令"), "admin:claims_payout_changelist", "?status__exact=failed", (FINANCE, AUDITOR)),
    (_("报表与预算"), "admin:claims_program_reports", "", (FINANCE, AUDITOR)),
)


@register.simple_tag(takes_context=True)
def staff_shortcuts(context) -> list[dict[str, str]]:
    user = context["request"].user
    return [
        {"label": label, "url": reverse(name) + query}
        for label, name, query, roles in SHORTCUTS
        if has_role(user, *roles)
    ]
