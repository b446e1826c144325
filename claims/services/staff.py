"""Staff accounts and their roles."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from claims.errors import ServiceError
from claims.roles import ROLES, ensure_groups


@transaction.atomic
def staff_create(username: str, role: str, password: str, *, superuser: bool = False):
    """Create a staff user with one role, or update the role and password of an existing one."""
    if role not in ROLES:
        raise ServiceError("invalid_role", f"角色只能是 {', '.join(ROLES)}")
    if not username or len(username) > 150:
        raise ServiceError("invalid_username", "用户名无效")
    User = get_user_model()
    user = User.objects.filter(username=username).first() or User(username=username)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ServiceError("invalid_password", "；".join(exc.messages)) from None
    user.set_password(password)
    user.is_staff = True  # admin access; what they may do there is decided by the role
    user.is_superuser = superuser
    user.save()
    groups = ensure_groups()
    user.groups.remove(*[g for name, g in groups.items() if name != role])
    user.groups.add(groups[role])
    return user
