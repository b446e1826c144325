"""The audit trail (oversight): who did what, when, from which address. Append-only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from claims.models import AuditLog, Claim
from claims.network import client_ip


def audit_log(
    action: str,
    *,
    actor=None,
    request=None,
    claim: Claim | None = None,
    obj: Any = None,
    **detail: Any,
) -> AuditLog:
    """Write one audit row. `actor` defaults to the request's user; `detail` must hold no unmasked PII."""
    if actor is None and request is not None:
        actor = getattr(request, "user", None)
    authenticated = getattr(actor, "is_authenticated", False)
    return AuditLog.objects.create(
        actor=actor if authenticated else None,
        actor_label=(actor.get_username() if authenticated else str(detail.pop("actor_label", "anonymous")))[
            :150
        ],
        action=action,
        claim=claim,
        object_type=type(obj).__name__ if obj is not None else ("Claim" if claim else ""),
        object_id=str(getattr(obj, "pk", "") or (claim.pk if claim else "")),
        ip_address=client_ip(request),
        detail=detail,
    )


def audit_export_record(user, *, request=None, params: Mapping[str, str] | None = None) -> None:
    """Exporting the audit trail is itself audited (who took which slice of it)."""
    audit_log("audit_export", actor=user, request=request, params=dict(params or {}))
