"""Staff searches by a full ID number, phone or bank card number: by POST only, through the keyed lookup hashes.

The number is never echoed into a URL, a redirect, a log line or the audit log in full: the audit row records that
such a search happened, by whom, with the number masked and how many claims it found.
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from claims.accounts.roles import CLAIM_READERS, has_role
from claims.audit.services import audit_log
from claims.crypto import mask
from claims.errors import Forbidden, ServiceError
from claims.models import Claim
from claims.review.selectors import claims_by_full_number, compact_number, is_full_number

MAX_RESULTS = 50
GET_REFUSED_CODE = "full_number_search_requires_post"


def get_search_refused() -> ServiceError:
    return ServiceError(
        GET_REFUSED_CODE,
        _("按完整身份证号、手机号或银行卡号查找请使用“完整号码查找”（POST），号码不得出现在网址中"),
    )


def search_term_check(term: str) -> None:
    """A GET search term (claim number, VIN, plate): a full personal number there is refused."""
    if is_full_number(term):
        raise get_search_refused()


def claim_full_number_search(number: str, user, *, request=None) -> list[Claim]:
    """The claims (at most MAX_RESULTS) whose ID number, phone or bank card is `number`; the search is audited."""
    if not has_role(user, *CLAIM_READERS):
        raise Forbidden("permission_denied", _("您的角色不能查找申请"))
    if not is_full_number(number):
        raise ServiceError("invalid_number", _("请输入完整的身份证号、手机号或银行卡号"))
    found = list(claims_by_full_number(number)[:MAX_RESULTS])
    audit_log(
        "claim_full_number_search",
        actor=user,
        request=request,
        number=mask(compact_number(number)),
        count=len(found),
    )
    return found
