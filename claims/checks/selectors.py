"""Read-only views of the OCR results for the staff API."""

from __future__ import annotations

from typing import Any

from claims.checks.models import DocumentReading, ReadingStatus

__all__ = ["claim_ocr_summary"]


def claim_ocr_summary(claim) -> dict[str, Any]:
    """Per current document kind: its fields ``{name: {value, confidence, confident}}``, or ``None`` while pending.

    A document that could not be read gives ``{"status": "engine_missing", "engines_missing": [...], "detail": …}``
    or ``{"status": "failed", "detail": …}`` instead.
    """
    current = list(claim.documents.filter(is_current=True).order_by("kind", "id"))
    readings = {r.document_id: r for r in DocumentReading.objects.filter(document__in=current)}
    summary: dict[str, Any] = {}
    for document in current:
        reading = readings.get(document.pk)
        if reading is None or reading.status == ReadingStatus.PENDING:
            summary[document.kind] = None
        elif reading.status == ReadingStatus.ENGINE_MISSING:
            summary[document.kind] = {
                "status": "engine_missing",
                "engines_missing": list(reading.engines_missing or []),
                "detail": reading.engines_missing_detail,
            }
        elif reading.status == ReadingStatus.FAILED:
            summary[document.kind] = {"status": "failed", "detail": reading.error or "识别失败"}
        else:
            summary[document.kind] = dict(reading.fields or {})
    return summary
