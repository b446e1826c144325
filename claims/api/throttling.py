"""Rate limits: per client address (the one `claims.network.client_ip`) and per claim number.

A claim's number is sequential and its applicant's ID number has a small guessable range, so lookup, withdrawal
and the other calls that prove who the applicant is are limited per claim number as well as per address: an
attacker who changes address on every request still gets only a few guesses at one claim.
"""

from __future__ import annotations

import hashlib

from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle

from claims.network import client_ip

CLAIM_NUMBER_SCOPE = "claim_number"


class LiveRatesMixin:
    @property
    def THROTTLE_RATES(self):  # noqa: N802 - DRF's attribute name; read live so settings overrides apply
        return api_settings.DEFAULT_THROTTLE_RATES


class ClientThrottle(LiveRatesMixin, ScopedRateThrottle):
    """DRF's scoped throttle keyed on the client address as this project determines it."""

    def get_ident(self, request):
        return client_ip(request) or "unknown"


def normalized_claim_number(value: object) -> str:
    return str(value or "").strip().upper()[:32]


class ClaimNumberThrottle(LiveRatesMixin, SimpleRateThrottle):
    """At most `CLAIM_NUMBER_RATE` attempts on one claim number, from any number of addresses."""

    scope = CLAIM_NUMBER_SCOPE

    def claim_number(self, request, view) -> str:
        kwargs = getattr(view, "kwargs", None) or {}
        if kwargs.get("claim_number"):
            return normalized_claim_number(kwargs["claim_number"])
        data = getattr(request, "data", None)
        if data is None:
            data = getattr(request, "POST", {})
        value = data.get("claim_number") if hasattr(data, "get") else None
        return normalized_claim_number(value if isinstance(value, str) else "")

    def get_cache_key(self, request, view):
        number = self.claim_number(request, view)
        if not number:
            return None
        digest = hashlib.sha256(number.encode()).hexdigest()[:32]
        return self.cache_format % {"scope": self.scope, "ident": digest}
