"""Staff accounts, their roles, and the API token login."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from claims.accounts.roles import DEALER, ROLES, ensure_groups, user_roles
from claims.accounts.tokens import token_issue
from claims.audit.services import audit_log
from claims.dealers.models import DealerAccount
from claims.errors import FieldError, Forbidden, ServiceError
from claims.intake.validators import validate_credit_code


@transaction.atomic
def staff_create(
    username: str, role: str, password: str, *, superuser: bool = False, dealer_credit_code: str = ""
):
    """Create a staff user with one role, or update the role and password of an existing one.

    A `dealer` account is bound to the one seller (credit code) it speaks for.
    """
    if role not in ROLES:
        raise ServiceError("invalid_role", f"角色只能是 {', '.join(ROLES)}")
    if (role == DEALER) != bool(dealer_credit_code):
        raise ServiceError(
            "invalid_dealer_credit_code", "经销商账号必须且只有经销商账号需要 --dealer-credit-code"
        )
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
    if role == DEALER:
        try:
            DealerAccount.objects.update_or_create(
                user=user, defaults={"credit_code": validate_credit_code(dealer_credit_code)}
            )
        except FieldError as exc:
            raise ServiceError(exc.code, exc.message) from None
    else:
        DealerAccount.objects.filter(user=user).delete()
    return user


def staff_token_obtain(username: str, password: str, *, request) -> str:
    """The API token of a staff member. Authenticates through Django (so django-axes counts failures and locks)."""
    user = authenticate(request=request, username=username, password=password)
    if user is None:
        if getattr(request, "axes_locked_out", False):
            raise ServiceError(
                "account_locked",
                _("登录失败次数过多，账号已被暂时锁定，请稍后再试"),
                status=getattr(settings, "AXES_HTTP_RESPONSE_CODE", 429),
            )
        raise ServiceError("invalid_credentials", _("用户名或密码错误"), status=400)
    if not user_roles(user):
        raise Forbidden("not_staff", _("该账号没有任何工作人员角色"))
    token = token_issue(user)
    audit_log("api_token_issued", actor=user, request=request)
    return token.key
