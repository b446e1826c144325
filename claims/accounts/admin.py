"""The base of every admin page: what each role may see is decided by `claims.accounts.roles`, not by Django
model permissions."""

from __future__ import annotations

import json
from functools import cached_property

from django.contrib import admin
from django.core.exceptions import EmptyResultSet
from django.core.paginator import EmptyPage, PageNotAnInteger, Paginator
from django.db import connections
from django.utils.translation import gettext as _

from claims.accounts.roles import CLAIM_READERS, has_role


def estimated_count(queryset) -> int | None:
    """The planner's row estimate for the queryset on PostgreSQL (None elsewhere): no scan of the rows."""
    if connections[queryset.db].vendor != "postgresql":
        return None
    try:
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a filter that matches nothing by construction (`pk__in=[]`)
        return 0
    with connections[queryset.db].cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class LargeTablePaginator(Paginator):
    """Counts exactly while counting is cheap, so a list never scans a huge table just to number its pages.

    On PostgreSQL the planner's row estimate comes first (no rows read): up to `EXACT_COUNT_UP_TO` estimated
    rows the count is exact (`COUNT(*)`), past it the estimate stands, and any page number is accepted while it
    does, so every page stays reachable even if the estimate is low. Elsewhere the count is always exact. Either
    way a list runs the same queries at 1,000 rows as at 100,000.

    With an exact count, a page in the second half is read from the other end (the ordering reversed, the rows
    turned back), so the last page costs what the first does instead of an OFFSET past every row before it.
    """

    EXACT_COUNT_UP_TO = 200_000
    estimated = False

    @cached_property
    def count(self) -> int:
        estimate = estimated_count(self.object_list)
        if estimate is None or estimate <= self.EXACT_COUNT_UP_TO:
            return self.object_list.count()
        self.estimated = True
        return estimate

    def validate_number(self, number):
        if self.count and self.estimated:
            try:
                number = int(number)
            except (TypeError, ValueError):
                raise PageNotAnInteger(_("页码不是整数")) from None
            if number < 1:
                raise EmptyPage(_("页码小于 1"))
            return number
        return super().validate_number(number)

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        if self.estimated:
            # The estimate may be far above or below the real count: the rows themselves say where the end is.
            rows = list(self.object_list[bottom : bottom + self.per_page])
            if not rows and number > 1:
                raise EmptyPage(_("该页没有结果"))
            return self._get_page(rows, number, self)
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        if self.count - top < bottom and getattr(self.object_list, "ordered", False):
            # Fewer rows after the page than before it: skip those, from the end.
            rows = list(self.object_list.reverse()[self.count - top : self.count - bottom])
            return self._get_page(rows[::-1], number, self)
        return super().page(number)


class RoleAdmin(admin.ModelAdmin):
    """Read-only for the roles in `view_roles`; no add, change or delete through the admin."""

    # Dealer accounts are not among them: they see only their own sales-records pages.
    view_roles: tuple[str, ...] = CLAIM_READERS
    paginator = LargeTablePaginator
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
