"""Who is asking: the client's address, the same answer for rate limits, login lockout and the audit log.

The socket's peer (`REMOTE_ADDR`) is the client unless the deployment says how many reverse proxies it runs in
front of the application (`TRUSTED_PROXY_COUNT`). Each trusted proxy appends the address it received the request
from to `X-Forwarded-For`, so with N trusted proxies the client is the N-th entry from the right; everything to its
left was written by the client and proves nothing. A value that is not an IP address is never used.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    text = value.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def client_ip(request) -> str | None:
    """The client's IP address as a canonical string, or None when the request has none that is valid."""
    if request is None:
        return None
    meta = getattr(request, "META", {})
    remote = _valid_ip(meta.get("REMOTE_ADDR"))
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies <= 0:
        return remote
    entries = [e.strip() for e in str(meta.get("HTTP_X_FORWARDED_FOR", "")).split(",") if e.strip()]
    if len(entries) < proxies:
        # Fewer entries than proxies: the request did not come through the whole chain; trust only the socket.
        return remote
    return _valid_ip(entries[-proxies]) or remote


def axes_client_ip(request) -> str | None:
    """django-axes' client-address callable (`AXES_CLIENT_IP_CALLABLE`)."""
    return client_ip(request)
