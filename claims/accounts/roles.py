"""Staff roles (Django groups) and the DRF permissions built on them."""

from __future__ import annotations

from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

REVIEWER, CLERK, FINANCE, AUDITOR, DEALER = "reviewer", "clerk", "finance", "auditor", "dealer"
ROLES = (REVIEWER, CLERK, FINANCE, AUDITOR, DEALER)
ROLE_LABELS = {
    REVIEWER: _("审核员"),
    CLERK: _("窗口受理员"),
    FINANCE: _("财务"),
    AUDITOR: _("审计（只读）"),
    DEALER: _("经销商"),
}
# Roles that read claims on the staff pages and API. A dealer sees only its own sales, never the claim list.
CLAIM_READERS = (REVIEWER, CLERK, FINANCE, AUDITOR)


def user_roles(user) -> set[str]:
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return set()
    cached = getattr(user, "_subsidy_roles", None)
    if cached is None:
        cached = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if user.is_superuser:
            cached |= set(ROLES)
        user._subsidy_roles = cached
    return cached


def has_role(user, *roles: str) -> bool:
    return bool(user_roles(user) & set(roles))


def ensure_groups() -> dict[str, Group]:
    return {name: Group.objects.get_or_create(name=name)[0] for name in ROLES}


class HasRole(BasePermission):
    """`HasRole.of("reviewer")` — authenticated staff with one of the roles; others get 403 (anonymous 401)."""

    roles: tuple[str, ...] = ()

    @classmethod
    def of(cls, *roles: str) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(roles)}", (cls,), {"roles": roles})

    def has_permission(self, request, view) -> bool:
        return has_role(request.user, *self.roles)


class IsStaffRole(HasRole):
    roles = CLAIM_READERS
