"""Keyset cursors for the staff claim list: an opaque, signed token naming the last row a page ended on.

The key is the claim's place in arrival order, (program_id, seq), the list's order and its unique index, so the
next page starts right after it however deep it is, and a claim added or decided meanwhile never makes a row
appear twice or go missing. The token is signed: a client cannot forge or alter one, only pass it back.
"""

from __future__ import annotations

from django.core import signing
from django.db.models import F, QuerySet
from django.db.models.fields.tuple_lookups import Tuple, TupleGreaterThan
from django.utils.translation import gettext as _

from claims.errors import ServiceError
from claims.models import Claim

SALT = "claims.review.cursor"
MAX_CURSOR_LENGTH = 200
_signer = signing.Signer(salt=SALT)


def invalid_cursor() -> ServiceError:
    return ServiceError("invalid_cursor", _("分页游标无效，请去掉 cursor 参数从第一页重新开始"))


def cursor_for(claim: Claim) -> str:
    """The cursor of the page that starts right after `claim`."""
    return _signer.sign_object([claim.program_id, claim.seq])


def cursor_key(cursor: str) -> tuple[int, int]:
    """(program_id, seq) of a cursor made by `cursor_for`; anything else is refused with `invalid_cursor`."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise invalid_cursor()
    try:
        key = _signer.unsign_object(cursor)
    except (signing.BadSignature, ValueError, TypeError, UnicodeError):
        raise invalid_cursor() from None
    if (
        not isinstance(key, list)
        or len(key) != 2
        or not all(type(part) is int and 0 < part < 2**31 for part in key)
    ):
        raise invalid_cursor()
    return key[0], key[1]


def claims_after(claims: QuerySet[Claim], key: tuple[int, int]) -> QuerySet[Claim]:
    """The claims that come after `key` in arrival order: one row comparison the unique (program, seq) index
    answers from the key on, however deep."""
    return claims.filter(TupleGreaterThan(Tuple(F("program_id"), F("seq")), key))
