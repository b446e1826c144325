"""The pure entry point: one document in, its fields out (no database, no Django models)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, UnidentifiedImageError

from . import ofd, pdf, preprocess
from .engines import EngineError, OcrEngine, TextLine, resolve_engines
from .readers import KINDS, REQUIRED_FIELDS, FieldReading, read_fields
from .readers.invoice import amount_consensus

logger = logging.getLogger(__name__)

__all__ = ["DocumentResult", "merge_readings", "read_document", "read_lines"]

STATUS_DONE = "done"
STATUS_FAILED = "failed"
STATUS_ENGINE_MISSING = "engine_missing"


@dataclass
class DocumentResult:
    kind: str
    engines: list[str] = field(default_factory=list)
    engines_missing: list[str] = field(default_factory=list)
    fields: dict[str, FieldReading] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.engines:
            return STATUS_DONE
        if self.error:
            return STATUS_FAILED
        if self.engines_missing or not self.engines:
            return STATUS_ENGINE_MISSING
        return STATUS_DONE

    def value(self, name: str) -> Any:
        reading = self.fields.get(name)
        return reading.value if reading else None

    def fields_json(self) -> dict[str, dict[str, Any]]:
        return {name: reading.to_json() for name, reading in self.fields.items()}

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "status": self.status,
            "engines": self.engines,
            "engines_missing": self.engines_missing,
            "fields": self.fields_json(),
            "seconds": round(self.seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "error": self.error,
        }


def _load(source: bytes | str | Path) -> bytes:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source)
    return Path(source).read_bytes()


def prepare_for_engine(image: Image.Image, kind: str, engine: OcrEngine) -> Image.Image:
    if engine.name == "tesseract":
        return preprocess.for_tesseract(image, kind)
    return preprocess.for_rapidocr(image, kind)


def merge_readings(kind: str, per_engine: list[dict[str, FieldReading]]) -> dict[str, FieldReading]:
    """Combine the readings of several engines.

    A field is confident when one engine read it confidently and no other engine confidently read something else,
    or when two engines read the same value (two independent readings agree).
    """
    if len(per_engine) == 1:
        return per_engine[0]
    names: list[str] = []
    for readings in per_engine:
        names.extend(n for n in readings if n not in names)
    merged: dict[str, FieldReading] = {}
    for name in names:
        candidates = [r[name] for r in per_engine if name in r and r[name].value is not None]
        if not candidates:
            merged[name] = next(r[name] for r in per_engine if name in r)
            continue
        confident = [c for c in candidates if c.confident]
        confident_values = {str(c.value) for c in confident}
        if len(confident_values) == 1:
            best = max(confident, key=lambda c: c.confidence)
            merged[name] = best
            continue
        if len(confident_values) > 1:
            best = max(candidates, key=lambda c: c.confidence)
            merged[name] = FieldReading(best.value, best.confidence, False, best.engine)
            continue
        values = [str(c.value) for c in candidates]
        agreed = [c for c in candidates if values.count(str(c.value)) >= 2]
        if agreed:
            best = max(agreed, key=lambda c: c.confidence)
            engines = "+".join(sorted({c.engine for c in agreed}))
            merged[name] = FieldReading(best.value, best.confidence, True, engines)
        else:
            best = max(candidates, key=lambda c: c.confidence)
            merged[name] = FieldReading(best.value, best.confidence, False, best.engine)
    if kind == "invoice":
        _merge_invoice_amounts(merged)
    return merged


def _merge_invoice_amounts(fields: dict[str, FieldReading]) -> None:
    """After merging, the amounts may now agree across fields read by different engines."""

    def val(name: str):
        reading = fields.get(name)
        return reading.value if reading else None

    agreed, agreeing = amount_consensus(
        val("amount_figures"), val("amount_words"), val("net_amount"), val("tax_amount")
    )
    if agreed is None:
        return
    for name, key in (("amount_figures", "figures"), ("amount_words", "words")):
        reading = fields.get(name)
        if reading and key in agreeing and reading.value == agreed and not reading.confident:
            fields[name] = FieldReading(reading.value, reading.confidence, True, reading.engine)


def _all_required_confident(kind: str, fields: dict[str, FieldReading]) -> bool:
    for name in REQUIRED_FIELDS.get(kind, ()):
        reading = fields.get(name)
        if reading is None or not reading.confident:
            return False
    return True


def _read_ofd(kind: str, data: bytes, result: DocumentResult, started: float) -> DocumentResult:
    """A fully digital invoice's OFD file: read from its XML, no OCR."""
    if kind != "invoice":
        result.error = "只有发票可以是 OFD 文件"
    else:
        try:
            result.fields = ofd.read_invoice(data)
            result.engines = [ofd.OFD_ENGINE]
        except ofd.OfdError as exc:
            result.error = f"文件无法识别：{exc}"
    result.seconds = time.monotonic() - started
    return result


def read_lines(kind: str, lines: list[TextLine], engine: str) -> dict[str, FieldReading]:
    return read_fields(kind, lines, engine)


def read_document(
    kind: str,
    source: bytes | str | Path,
    content_type: str | None = None,
    *,
    engines: Sequence[str] | None = None,
    timeout: float | None = None,
    all_engines: bool = False,
) -> DocumentResult:
    """Read one document.

    ``engines`` defaults to ``settings.OCR_ENGINES``.  Engines run in order; the next one runs only while a
    required field is still not confident (or always with ``all_engines``).  Never raises for a bad image, a
    missing engine or an engine failure: the result says what happened.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown document kind: {kind}")
    started = time.monotonic()
    result = DocumentResult(kind=kind)
    try:
        data = _load(source)
    except OSError as exc:
        result.error = f"文件无法读取：{exc}"
        result.seconds = time.monotonic() - started
        return result

    if content_type == ofd.OFD_CONTENT_TYPE or (content_type is None and ofd.is_ofd(data)):
        return _read_ofd(kind, data, result, started)
    is_pdf = content_type == "application/pdf" or (content_type is None and pdf.is_pdf(data))
    image: Image.Image | None = None
    try:
        if is_pdf:
            t0 = time.monotonic()
            lines = pdf.text_layer_lines(data)
            result.timings["pdf_text"] = time.monotonic() - t0
            if lines:
                fields = read_fields(kind, lines, pdf.PDF_ENGINE)
                required = REQUIRED_FIELDS.get(kind, ())
                if not required or any(fields[name].value is not None for name in required):
                    result.engines = [pdf.PDF_ENGINE]
                    result.fields = fields
                    result.seconds = time.monotonic() - started
                    return result
                # A text layer without the document's fields (a scan with a header, say): OCR the page.
            t0 = time.monotonic()
            image = pdf.render_first_page(data)
            result.timings["pdf_render"] = time.monotonic() - t0
        else:
            t0 = time.monotonic()
            image = preprocess.load_image(data)
            result.timings["decode"] = time.monotonic() - t0
    except (pdf.PdfError, UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        result.error = f"文件无法识别：{exc}"
        result.seconds = time.monotonic() - started
        return result

    available, missing = resolve_engines(engines, timeout)
    result.engines_missing = missing
    if not available:
        result.seconds = time.monotonic() - started
        return result

    per_engine: list[dict[str, FieldReading]] = []
    errors: list[str] = []
    for engine in available:
        try:
            t0 = time.monotonic()
            prepared = prepare_for_engine(image, kind, engine)
            result.timings[f"{engine.name}_prepare"] = time.monotonic() - t0
            t0 = time.monotonic()
            lines = engine.recognize(prepared)
            result.timings[f"{engine.name}_ocr"] = time.monotonic() - t0
            t0 = time.monotonic()
            readings = read_fields(kind, lines, engine.name)
            result.timings[f"{engine.name}_read"] = time.monotonic() - t0
        except EngineError as exc:
            logger.warning("OCR engine %s failed on a %s: %s", engine.name, kind, exc)
            errors.append(str(exc))
            continue
        per_engine.append(readings)
        result.engines.append(engine.name)
        merged = merge_readings(kind, per_engine)
        if not all_engines and _all_required_confident(kind, merged):
            break
    if per_engine:
        result.fields = merge_readings(kind, per_engine)
    result.error = "；".join(errors)
    result.seconds = time.monotonic() - started
    return result
