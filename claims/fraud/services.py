"""Fraud signals as checks: one card or phone behind several applicants' claims, and images seen in another claim.

Cards and phones are compared on their keyed lookup hashes only; the clear numbers are never read here.
"""

from __future__ import annotations

import logging

import imagehash
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils.translation import gettext as _
from PIL import Image, ImageStat, UnidentifiedImageError

from claims.fraud.models import DocumentFingerprint, FingerprintBand
from claims.intake.documents import document_path
from claims.intake.models import ACTIVE_STATUSES
from claims.models import Claim, ClaimDocument
from claims.vocabulary import CheckResult

log = logging.getLogger(__name__)

IMAGE_TYPES = ("image/jpeg", "image/png")
BANDS = 8  # bytes of the 64-bit hash
# Hamming distance (of 64 bits) at or below which two images count as the same picture. Measured with pHash:
# re-encoding and resizing move it by 0-4 bits, a crop of 2-3% per side by 4-12; unrelated photos are 24-40 apart.
NEAR_DISTANCE = 10
# Candidates are found by an indexed lookup: a byte of the hash equal to ours or one bit away. Two hashes at most
# 2 * BANDS - 1 = 15 bits apart always share such a byte (pigeonhole), so the lookup misses nothing within
# NEAR_DISTANCE; the exact distance is then computed on the candidates only.
assert NEAR_DISTANCE < 2 * BANDS
# A nearly uniform image (a blank page) says nothing: its hash is not compared.
MIN_CONTRAST = 4.0
SHOWN = 5


def _bands(phash: str) -> list[int]:
    return [int(phash[i * 2 : i * 2 + 2], 16) for i in range(BANDS)]


def _distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def image_phash(path) -> str | None:
    """The pHash of an image file as 16 hex digits; None for a nearly blank image or an unreadable one."""
    try:
        with Image.open(path) as img:
            grey = img.convert("L")
            if ImageStat.Stat(grey.resize((64, 64))).stddev[0] < MIN_CONTRAST:
                return None
            return str(imagehash.phash(grey))
    except (UnidentifiedImageError, OSError, ValueError):
        log.warning("document image could not be fingerprinted")
        return None


def document_fingerprint(document: ClaimDocument) -> DocumentFingerprint | None:
    """The stored fingerprint of an image document, computed and stored the first time it is asked for."""
    existing = DocumentFingerprint.objects.filter(document=document).first()
    if existing is not None or document.content_type not in IMAGE_TYPES:
        return existing
    phash = image_phash(document_path(document.storage_name))
    if phash is None:
        return None
    try:
        with transaction.atomic():
            fingerprint = DocumentFingerprint.objects.create(
                document=document, claim_id=document.claim_id, phash=phash
            )
            FingerprintBand.objects.bulk_create(
                FingerprintBand(fingerprint=fingerprint, band=i, value=v) for i, v in enumerate(_bands(phash))
            )
    except IntegrityError:  # computed concurrently by another refresh
        return DocumentFingerprint.objects.filter(document=document).first()
    return fingerprint


def near_duplicates(fingerprint: DocumentFingerprint) -> list[DocumentFingerprint]:
    """Other claims' current images within NEAR_DISTANCE of this one (candidates by an indexed band lookup)."""
    query = Q()
    for i, value in enumerate(_bands(fingerprint.phash)):
        query |= Q(bands__band=i, bands__value__in=[value] + [value ^ (1 << bit) for bit in range(8)])
    candidates = (
        DocumentFingerprint.objects.filter(query, document__is_current=True)
        .exclude(claim_id=fingerprint.claim_id)
        .distinct()
        .select_related("claim")
    )
    return [c for c in candidates if _distance(c.phash, fingerprint.phash) <= NEAR_DISTANCE]


def _shared(claim: Claim, field: str) -> list[Claim]:
    return list(
        Claim.objects.filter(**{field: getattr(claim, field)}, status__in=ACTIVE_STATUSES)
        .exclude(pk=claim.pk)
        .exclude(id_number_hash=claim.id_number_hash)
        .only("id", "claim_number", "seq", "program_id")
        .order_by("program_id", "seq")[:50]
    )


def _numbers(claims) -> str:
    numbers = sorted({c.claim_number for c in claims})
    more = len(numbers) - SHOWN
    text = "、".join(numbers[:SHOWN])
    return text + (_(" 等 %(n)s 份") % {"n": len(numbers)} if more > 0 else "")


def fraud_checks(claim: Claim) -> tuple[list[dict], set[int]]:
    """The three fraud checks of a claim, and the other claims involved (whose checks change with this one)."""
    results, related = [], set()
    for code, field, fail_text, pass_text in (
        (
            "bank_account_shared",
            "bank_account_hash",
            _("银行卡 %(m)s 也用于其他申请人的申请：%(n)s"),
            _("银行卡未被其他申请人使用"),
        ),
        (
            "phone_shared",
            "phone_hash",
            _("手机号 %(m)s 也用于其他申请人的申请：%(n)s"),
            _("手机号未被其他申请人使用"),
        ),
    ):
        others = _shared(claim, field)
        related |= {c.pk for c in others}
        masked = claim.bank_account_masked if field == "bank_account_hash" else claim.phone_masked
        if others:
            results.append(
                {
                    "code": code,
                    "result": CheckResult.FAIL.value,
                    "detail": fail_text % {"m": masked, "n": _numbers(others)},
                }
            )
        else:
            results.append({"code": code, "result": CheckResult.PASS.value, "detail": pass_text})

    documents = list(claim.documents.filter(is_current=True))
    images = [d for d in documents if d.content_type in IMAGE_TYPES]
    matches: list[tuple[ClaimDocument, DocumentFingerprint]] = []
    compared = 0
    for document in images:
        fingerprint = document_fingerprint(document)
        if fingerprint is None:
            continue
        compared += 1
        matches += [(document, m) for m in near_duplicates(fingerprint)]
    related |= {m.claim_id for _d, m in matches}
    if matches:
        kinds = "、".join(sorted({str(d.get_kind_display()) for d, _m in matches}))
        detail = _("%(k)s与其他申请的图片几乎相同：%(n)s") % {
            "k": kinds,
            "n": _numbers([m.claim for _d, m in matches]),
        }
        results.append(
            {"code": "document_near_duplicate", "result": CheckResult.FAIL.value, "detail": detail}
        )
    elif compared:
        results.append(
            {
                "code": "document_near_duplicate",
                "result": CheckResult.PASS.value,
                "detail": _("图片未见于其他申请"),
            }
        )
    else:
        results.append(
            {
                "code": "document_near_duplicate",
                "result": CheckResult.UNKNOWN.value,
                "detail": _("没有可比对的图片"),
            }
        )
    return results, related
