"""The base of every admin page: what each role may see is decided by `claims.accounts.roles`, not by Django
model permissions."""

from __future__ import annotations

from functools import cached_property

from django.contrib import admin
from django.core.paginator import Paginator

from claims.accounts.roles import CLAIM_READERS, has_role


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (`COUNT(*)` over a LIMITed subquery), so a page never scans the whole table."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP + 1].count()


class RoleAdmin(admin.ModelAdmin):
    """Read-only for the roles in `view_roles`; no add, change or delete through the admin."""

    # Dealer accounts are not among them: they see only their own sales-records pages.
    view_roles: tuple[str, ...] = CLAIM_READERS
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 100

    def has_module_permission(self, request) -> bool:
        return has_role(request.user, *self.view_roles)

    def has_view_permission(self, request, obj=None) -> bool:
        return has_role(request.user, *self.view_roles)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
