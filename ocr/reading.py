"""The pure entry point: one document in, its fields out (no database, no Django models)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PIL import Image, ImageOps, UnidentifiedImageError

from . import ofd, pdf, preprocess
from .engines import EngineError, OcrEngine, TesseractEngine, TextLine, resolve_engines
from .readers import KINDS, REQUIRED_FIELDS, FieldReading, read_fields
from .readers.base import Layout, compact, normalize_text
from .readers.candidates import item_candidates
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


SECOND_READING_FIELDS: dict[str, tuple[str, ...]] = {
    "invoice": ("buyer_name", "invoice_date", "invoice_number", "vin", "buyer_id_number", "amount_figures"),
    "vehicle_license": ("owner", "plate_number", "vin", "issue_date"),
    "id_card_front": ("name", "id_number"),
    "id_card_back": (),
    "pos_slip": ("amount", "date"),
}


def _source_line(value: Any, lines: list[TextLine]) -> TextLine | None:
    """The first engine's line a value was read from."""
    if isinstance(value, str):
        target = compact(value).upper()
        for line in lines:
            if target and target in compact(normalize_text(line.text)).upper():
                return line
        return None
    for line in lines:
        items = Layout([line]).items
        if items and any(c.value == value for c in item_candidates(items[0])):
            return line
    return None


def _agrees(value: Any, text: str) -> bool:
    text = normalize_text(text)
    if isinstance(value, str):
        return bool(value) and compact(value).upper() in compact(text).upper()
    line = TextLine(text, 1.0, ((0, 0), (100, 0), (100, 10), (0, 10)))
    items = Layout([line]).items
    return bool(items) and any(c.value == value for c in item_candidates(items[0]))


def _crops(image: Image.Image, line: TextLine) -> list[Image.Image]:
    """Two views of a line for the second engine: the line with some margin, and a tight binarised one."""
    h = max(line.y1 - line.y0, 8)
    red = image.convert("RGB").getchannel("R")  # the red channel drops a red seal
    out = []
    for margin_x, margin_y, binarise in ((0.4, 0.3, False), (0.2, 0.05, True)):
        box = (
            max(int(line.x0 - margin_x * h), 0),
            max(int(line.y0 - margin_y * h), 0),
            min(int(line.x1 + margin_x * h), image.width),
            min(int(line.y1 + margin_y * h), image.height),
        )
        crop = red.crop(box)
        scale = (64 if binarise else 48) / h
        if scale > 1 or binarise:
            crop = crop.resize(
                (max(int(crop.width * scale), 1), max(int(crop.height * scale), 1)), Image.BICUBIC
            )
        crop = ImageOps.autocontrast(crop)
        if binarise:
            crop = ImageOps.expand(preprocess.otsu(crop), border=24, fill=255)
        out.append(crop)
    return out


def second_reading(
    kind: str,
    image: Image.Image,
    lines: list[TextLine],
    fields: dict[str, FieldReading],
    engine: TesseractEngine,
) -> bool:
    """Re-read, with a second engine, the line of each important field that is not confident yet.

    Where the second engine reads the same value in the same place, two independent readings agree and the
    field becomes confident.  Returns whether the engine was used.
    """
    used = False
    for name in SECOND_READING_FIELDS.get(kind, ()):
        reading = fields.get(name)
        if reading is None or reading.value is None or reading.confident:
            continue
        line = _source_line(reading.value, lines)
        if line is None:
            continue
        # names are Chinese only; everything else may mix digits and Latin letters
        lang = "chi_sim" if isinstance(reading.value, str) and not reading.value.isascii() else None
        for crop in _crops(image, line):
            try:
                text = engine.read_line(crop, lang=lang)
            except EngineError as exc:
                logger.warning("second reading of %s failed: %s", name, exc)
                break
            used = True
            if _agrees(reading.value, text):
                fields[name] = FieldReading(
                    reading.value, reading.confidence, True, f"{reading.engine}+{engine.name}"
                )
                break
    if used and kind == "invoice":
        _merge_invoice_amounts(fields)
    return used


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
    first_lines: list[TextLine] = []
    first_image = image
    for index, engine in enumerate(available):
        if per_engine and not all_engines:
            # A second engine does not read the whole page again: it re-reads, on the first engine's own
            # lines, only the fields still not confident (a second independent reading, at a fraction of the
            # cost).  It reads the whole page only when every engine before it failed.
            if isinstance(engine, TesseractEngine):
                t0 = time.monotonic()
                if second_reading(kind, first_image, first_lines, per_engine[0], engine):
                    result.engines.append(engine.name)
                result.timings[f"{engine.name}_second_reading"] = time.monotonic() - t0
            break
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
        first_lines, first_image = lines, prepared
        result.engines.append(engine.name)
        if index == len(available) - 1 or _all_required_confident(kind, merge_readings(kind, per_engine)):
            break
    if per_engine:
        result.fields = merge_readings(kind, per_engine)
    result.error = "；".join(errors)
    result.seconds = time.monotonic() - started
    return result
