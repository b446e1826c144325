"""Programs and the budget ledger in the admin (read-only)."""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy

from claims.accounts.admin import RoleAdmin
from claims.accounts.roles import AUDITOR, FINANCE
from claims.models import LedgerEntry, Program
from claims.money import money_display
from claims.reports.admin import ReportsAdminMixin


@admin.register(Program)
class ProgramAdmin(ReportsAdminMixin, RoleAdmin):
    list_display = (
        "code",
        "name",
        "budget_total",
        "reserved",
        "paid",
        "available_display",
        "claim_window_end",
    )

    @admin.display(description=gettext_lazy("可用余额"))
    def available_display(self, obj: Program):
        return money_display(obj.available)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(RoleAdmin):
    view_roles = (FINANCE, AUDITOR)
    list_display = (
        "id",
        "created_at",
        "program",
        "claim",
        "kind",
        "amount",
        "reserved_after",
        "paid_after",
        "note",
    )
    list_filter = ("kind", "program")
    list_select_related = ("program", "claim")
    search_fields = ("=claim__claim_number",)
    ordering = ("-id",)
