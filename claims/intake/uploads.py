"""Staged uploads: documents sent one by one before the claim (also before the window opens).

Each file goes through the same validation and re-encoding as a file sent with a submission
(`documents.document_inspect`) and is stored content-addressed at upload time, so the submission that names
it does no image work. Limits per address (count and bytes of unused uploads) and in total keep staging from
being used as free storage; unused uploads are deleted after `STAGED_UPLOAD_TTL_HOURS`.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.crypto import pii_hash
from claims.errors import Conflict, FieldError, ServiceError
from claims.intake.cleanup import referenced
from claims.intake.documents import document_discard, document_inspect, document_store
from claims.models import Claim, StagedUpload
from claims.vocabulary import DOCUMENT_KINDS

log = logging.getLogger(__name__)
UNUSED_BYTES_KEY = "staged-uploads:unused-bytes"
UNUSED_BYTES_SECONDS = 10

UPLOAD_SUFFIX = "_upload"


@dataclass(frozen=True)
class StagedDocument:
    """A staged upload named by a submission: already checked and stored, so it carries no bytes."""

    kind: str
    upload_pk: int
    upload_id: str
    sha256: str
    stored_sha256: str
    content_type: str
    size: int
    storage_name: str
    original_name: str


def upload_field(kind: str) -> str:
    """The submission field naming a staged upload of `kind`, e.g. `invoice_upload`."""
    return f"{kind}{UPLOAD_SUFFIX}"


def _unused(now: dt.datetime):
    return StagedUpload.objects.filter(claim__isnull=True, expires_at__gt=now)


def _check_quota(address_hash: str, size: int, now: dt.datetime) -> None:
    """Refuse (413) an upload that would pass the per-address or the total cap of unused staged bytes."""
    mine = _unused(now).filter(address_hash=address_hash).aggregate(n=Count("id"), b=Sum("size"))
    if (mine["n"] or 0) >= settings.STAGED_UPLOAD_MAX_COUNT_PER_ADDRESS or (mine["b"] or 0) + size > (
        settings.STAGED_UPLOAD_MAX_BYTES_PER_ADDRESS
    ):
        raise ServiceError(
            "upload_quota_exceeded",
            _("您已预上传的材料过多，请提交申请或等待 24 小时后未使用的材料自动删除后再上传"),
            status=413,
        )
    if _unused_bytes_total(now) + size > settings.STAGED_UPLOAD_MAX_BYTES_TOTAL:
        raise ServiceError("upload_storage_full", _("系统暂存空间已满，请稍后再试"), status=413)


def _unused_bytes_total(now: dt.datetime) -> int:
    """The bytes held by unused staged uploads, for the total cap.

    Summing every unused row on each upload would cost more the nearer the opening is (hundreds of thousands of
    rows the day before). The sum is kept in the cache for `UNUSED_BYTES_SECONDS` and each accepted upload is
    added to it, so the cap holds to within the uploads in flight; uploads taken by a claim or purged leave the
    figure at the next sum.
    """
    total = cache.get(UNUSED_BYTES_KEY)
    if total is None:
        total = _unused(now).aggregate(b=Sum("size"))["b"] or 0
        cache.set(UNUSED_BYTES_KEY, total, UNUSED_BYTES_SECONDS)
    return int(total)


def _unused_bytes_add(size: int) -> None:
    try:
        cache.incr(UNUSED_BYTES_KEY, size)
    except ValueError:  # expired meanwhile: the next check sums afresh
        pass


def upload_stage(kind: str, upload: Any, address: str) -> StagedUpload:
    """Validate, re-encode and store one document; the staged row the buyer names in the submission."""
    if kind not in DOCUMENT_KINDS:
        raise ServiceError(
            "invalid_input",
            _("材料类型不正确"),
            fields={"kind": [FieldError("invalid_input", _("材料类型不正确"), "kind")]},
        )
    if not upload:
        raise ServiceError(
            "required",
            _("请上传此材料"),
            fields={"file": [FieldError("required", _("请上传此材料"), "file")]},
        )
    now = timezone.now()
    address_hash = pii_hash(f"address:{address}")
    declared = getattr(upload, "size", 0)
    _check_quota(address_hash, declared if isinstance(declared, int) else 0, now)
    try:
        doc = document_inspect(upload, kind)
    except FieldError as exc:
        raise ServiceError(exc.code, exc.message, fields={"file": [exc.for_field("file")]}) from None
    _check_quota(address_hash, doc.size, now)
    name, created = document_store(doc)
    try:
        staged = StagedUpload.objects.create(
            upload_id=secrets.token_urlsafe(32),
            kind=kind,
            sha256=doc.sha256,
            stored_sha256=doc.stored_sha256,
            content_type=doc.content_type,
            extension=doc.extension,
            size=doc.size,
            storage_name=name,
            original_name=(getattr(upload, "name", "") or "")[:200],
            address_hash=address_hash,
            expires_at=now + dt.timedelta(hours=settings.STAGED_UPLOAD_TTL_HOURS),
        )
    except BaseException:
        if created:
            storage_discard_unreferenced([name])
        raise
    _unused_bytes_add(doc.size)
    # Files are content-addressed and shared: a failed request that stored the same bytes may have discarded
    # them before our row existed. Storing again is a no-op when the file is there and restores it otherwise.
    document_store(doc)
    return staged


def upload_public(upload: StagedUpload) -> dict[str, Any]:
    return {
        "upload_id": upload.upload_id,
        "kind": upload.kind,
        "sha256": upload.sha256,
        "expires_at": timezone.localtime(upload.expires_at).isoformat(),
    }


def staged_documents_resolve(
    raw: Mapping[str, Any], kinds: tuple[str, ...], skip: Mapping[str, Any]
) -> tuple[dict[str, StagedDocument], list[FieldError]]:
    """The staged uploads a submission names for `kinds` (those not sent as files in `skip`), and the errors.

    An id that is unknown, expired, of another kind or already used by a claim is an `invalid_file` error on
    that document's field: the buyer uploads it again.
    """
    wanted: dict[str, str] = {}
    for kind in kinds:
        if skip.get(kind):
            continue
        value = raw.get(upload_field(kind))
        if isinstance(value, list | tuple):
            value = value[0] if value else ""
        if isinstance(value, str) and value.strip():
            wanted[kind] = value.strip()[:64]
    if not wanted:
        return {}, []
    now = timezone.now()
    rows = {u.upload_id: u for u in StagedUpload.objects.filter(upload_id__in=list(wanted.values()))}
    found: dict[str, StagedDocument] = {}
    errors: list[FieldError] = []
    for kind, upload_id in wanted.items():
        row = rows.get(upload_id)
        if row is None or row.kind != kind or row.expires_at <= now:
            errors.append(FieldError("invalid_file", _("预上传的材料已失效或不存在，请重新上传"), kind))
        elif row.claim_id is not None:
            errors.append(FieldError("invalid_file", _("该材料已用于另一份申请，请重新上传"), kind))
        else:
            found[kind] = StagedDocument(
                kind=kind,
                upload_pk=row.pk,
                upload_id=row.upload_id,
                sha256=row.sha256,
                stored_sha256=row.stored_sha256,
                content_type=row.content_type,
                size=row.size,
                storage_name=row.storage_name,
                original_name=row.original_name,
            )
    return found, errors


def staged_uploads_take(claim: Claim, documents: list[StagedDocument]) -> None:
    """Inside the claim's transaction: mark the uploads used by `claim`; one taken meanwhile is a 409."""
    if not documents:
        return
    taken = StagedUpload.objects.filter(pk__in=[d.upload_pk for d in documents], claim__isnull=True).update(
        claim=claim, used_at=timezone.now()
    )
    if taken != len(documents):
        raise Conflict("upload_used", _("预上传的材料已用于另一份申请，请重新上传"))


def storage_discard_unreferenced(names: list[str]) -> None:
    """Delete stored files that no claim document and no staged upload refers to."""
    keep = referenced(names)
    for name in names:
        if name not in keep:
            document_discard(name)


def staged_uploads_purge(now: dt.datetime | None = None, limit: int = 5000) -> int:
    """Delete up to `limit` expired unused uploads and the files nobody else refers to; how many were deleted."""
    now = now or timezone.now()
    expired = list(
        StagedUpload.objects.filter(Q(claim__isnull=True) & Q(expires_at__lte=now)).values_list(
            "pk", "storage_name"
        )[:limit]
    )
    if not expired:
        return 0
    StagedUpload.objects.filter(pk__in=[pk for pk, _name in expired], claim__isnull=True).delete()
    storage_discard_unreferenced(sorted({name for _pk, name in expired}))
    cache.delete(UNUSED_BYTES_KEY)
    log.info("purged %d expired staged uploads", len(expired))
    return len(expired)
