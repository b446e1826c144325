"""Counter intake input: scans staged as soon as they are posted (so an error never loses them), and dates as
clerks type them.

A clerk's scans go through the same staged uploads as the buyers' pages: each file sent is validated and stored
at once, and the form carries its upload id from then on, so a refused submission comes back with every scan
still attached. The claim itself is then submitted through the one submission service.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from typing import Any

from claims.errors import FieldError, ServiceError
from claims.intake.uploads import upload_field, upload_stage
from claims.models import StagedUpload
from claims.vocabulary import DECLARED_FIELDS, DOCUMENT_KINDS

_LOOSE_DATE = re.compile(r"\s*(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?\s*")
DATE_FIELDS = tuple(f.name for f in DECLARED_FIELDS if f.kind == "date")


def loose_date(text: str) -> str:
    """`2026/10/13`, `2026-10-13`, `2026.10.13` and `2026年10月13日` as `2026-10-13`; anything else unchanged
    (the service then refuses it with its own message)."""
    match = _LOOSE_DATE.fullmatch(text or "")
    if not match:
        return text
    try:
        return dt.date(*(int(g) for g in match.groups())).isoformat()
    except ValueError:
        return text


def counter_scans_stage(
    raw: Mapping[str, Any], files: Mapping[str, Any], clerk: Any
) -> tuple[dict[str, str], dict[str, StagedUpload], list[FieldError]]:
    """Stage every scan sent with this post; keep the ones staged by an earlier post of the same form.

    Returns the submission fields (dates normalised, `{kind}_upload` ids), the staged rows by kind (to show
    which scans are kept) and the errors of scans that were refused.
    """
    values = {k: (raw.get(k) or "") for k in raw}
    for name in DATE_FIELDS:
        if name in values:
            values[name] = loose_date(str(values[name]))
    staged: dict[str, StagedUpload] = {}
    errors: list[FieldError] = []
    address = f"staff:{getattr(clerk, 'pk', '')}"
    for kind in DOCUMENT_KINDS:
        upload = files.get(kind)
        if upload:
            try:
                row = upload_stage(kind, upload, address)
            except ServiceError as exc:
                items = exc.fields.get("file") or [FieldError(exc.code, exc.message, kind)]
                errors.extend(e.for_field(kind) for e in items)
                values.pop(upload_field(kind), None)
                continue
            values[upload_field(kind)] = row.upload_id
            staged[kind] = row
        elif values.get(upload_field(kind)):
            row = StagedUpload.objects.filter(
                upload_id=str(values[upload_field(kind)])[:64], kind=kind, claim__isnull=True
            ).first()
            if row is not None:
                staged[kind] = row
            else:
                values.pop(upload_field(kind), None)
    return values, staged, errors
