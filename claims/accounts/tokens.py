"""Staff API tokens: they expire, and a password change revokes them.

A token is valid for `STAFF_TOKEN_HOURS` after it was issued; an expired token is deleted on its next use and
the next login issues a new one. Django calls every password validator's `password_changed` whenever a user's
password is saved (admin, `changepassword`, `create_staff`), which is where the user's tokens are revoked.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token


def token_expired(token: Token, now: dt.datetime | None = None) -> bool:
    lifetime = dt.timedelta(hours=float(settings.STAFF_TOKEN_HOURS))
    return token.created + lifetime <= (now or timezone.now())


def token_issue(user) -> Token:
    """The user's current token, or a new one when there is none or it has expired."""
    token = Token.objects.filter(user=user).first()
    if token is not None and token_expired(token):
        token.delete()
        token = None
    return token or Token.objects.create(user=user)


def tokens_revoke(user) -> int:
    return Token.objects.filter(user=user).delete()[0] if user.pk else 0


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed(_("登录凭证已过期，请重新登录"))
        return user, token


class RevokeTokensOnPasswordChange:
    """Not a rule on the password: Django's hook for "this user's password has just changed"."""

    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user=None) -> None:
        if user is not None:
            tokens_revoke(user)

    def get_help_text(self) -> str:
        return ""
