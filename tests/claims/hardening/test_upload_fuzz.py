"""Hostile files and form values on the upload path, through the whole stack (middleware, views, services, DB).

Two targets: the staged upload (`POST /api/v1/uploads/`) and the multipart or JSON submission
(`POST /api/v1/claims/`). Files start from small valid JPEG, PNG, PDF and OFD files and are mutated, truncated and
spliced; headers claim huge sizes; names, declared types and form values are hostile; multipart bodies are built by
hand so that names with NUL or `../`, several files in one field and missing fields reach the server as sent.

For every example: no 5xx; every 4xx is JSON with a machine `code` and a Chinese `message`; a refusal writes no row
and no file. Each example runs in a savepoint rolled back afterwards, so examples do not see each other's claims.

The run is bounded by `UPLOAD_FUZZ_SECONDS` (whole file, default 30): examples run in Hypothesis batches until a
test's share of the budget is spent. Batches are seeded from `UPLOAD_FUZZ_SEED` (random unless set, printed with
the figures and on failure), so setting it repeats a run; Hypothesis' example database is off.
"""

from __future__ import annotations

import io
import json
import logging
import os
import random
import re
import secrets
import struct
import time
import zlib
from collections import Counter
from functools import cache
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import seed as hypothesis_seed
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from PIL import Image

from claims.intake.uploads import upload_stage
from claims.models import (
    Claim,
    ClaimCheck,
    ClaimDocument,
    ClaimEvent,
    DocumentReading,
    IdempotencyRecord,
    LedgerEntry,
    StagedUpload,
)
from claims.vocabulary import DOCUMENT_KINDS
from ocr.reading import read_document
from tests.docgen import invoices
from tests.docgen import ofd as make_ofd
from tests.factories import claim_payload, image_bytes, pdf_from_objects

BUDGET_SECONDS = float(os.environ.get("UPLOAD_FUZZ_SECONDS", "30"))
# Each test's share of the budget; the submission carries five files, so it gets more.
UPLOAD_SHARE, CLAIM_SHARE = 0.4, 0.6
BASE_SEED = int(os.environ.get("UPLOAD_FUZZ_SEED") or secrets.randbits(32))
BATCH_SIZE = 20

WRITTEN_MODELS = (
    Claim,
    ClaimDocument,
    ClaimEvent,
    ClaimCheck,
    DocumentReading,
    StagedUpload,
    IdempotencyRecord,
    LedgerEntry,
)
READING_STATUSES = {"done", "failed", "engine_missing"}
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# What a refused staged upload may answer (docs/api.md); anything else would be an undocumented code.
UPLOAD_CODES = {
    "invalid_file",
    "invalid_input",
    "required",
    "upload_quota_exceeded",
    "upload_storage_full",
    "parse_error",
    "unsupported_media_type",
}


# --- Seed files -------------------------------------------------------------------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return (
        struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    )


def _png_claiming(width: int, height: int) -> bytes:
    """A PNG whose header (with a correct CRC) claims width x height, followed by a few rows of real data."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" + b"\x80" * 3 * min(width, 64))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", rows)
        + _png_chunk(b"IEND", b"")
    )


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A valid small JPEG whose SOF0 header is rewritten to claim width x height."""
    data = bytearray(image_bytes("big", size=(16, 16), fmt="JPEG"))
    at = data.index(b"\xff\xc0")
    data[at + 5 : at + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def _image(mode: str, fmt: str, size=(24, 16), **save) -> bytes:
    bands = Image.getmodebands(mode)
    out = io.BytesIO()
    Image.new(mode, size, 128 if bands == 1 else (40, 80, 120, 200)[:bands]).save(out, fmt, **save)
    return out.getvalue()


def _stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d " % len(data) + extra + b" >>\nstream\n" + data + b"\nendstream"


PDF_TEXT = b"BT /F1 12 Tf 20 40 Td (invoice 158000.00) Tj ET"
PDF_OBJECTS = [
    b"<< /Type /Catalog /Pages 2 0 R >>",
    b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R "
    b"/Resources << /Font << /F1 5 0 R >> >> >>",
    _stream(PDF_TEXT),
    b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
]


def _minimal_pdf() -> bytes:
    """A one-page PDF with a text line, written by hand."""
    return pdf_from_objects(PDF_OBJECTS)


# Hostile replacements for each object of PDF_OBJECTS, and extra objects (6, 7) they may refer to: broken page
# trees, cycles, inherited and missing attributes, huge or negative boxes, active content, bad streams.
PDF_VARIANTS = {
    0: [
        b"<< /Type /Catalog /Pages 3 0 R >>",
        b"<< /Type /Catalog /Pages 2 0 R /OpenAction << /S /JavaScript /JS (app.alert(1)) >> >>",
        b"<< /Type /Catalog /Pages 2 0 R /Names << /EmbeddedFiles << /Names [(a) 6 0 R] >> >> /AcroForm 7 0 R >>",
        b"<< /Type /Catalog >>",
        b"<< /Type /Catalog /Pages 99 0 R >>",
        b"[1 0 R]",
    ],
    1: [
        b"<< /Type /Pages /Kids [3 0 R 3 0 R] /Count 2 >>",
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 99999999 >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count -1 >>",
        b"<< /Type /Pages /Kids 3 0 R /Count 1 >>",
        b"<< /Type /Pages /Kids [] /Count 0 >>",
        b"<< /Type /Pages /Kids [3 0 R 6 0 R 7 0 R] /Count 3 >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 /MediaBox [0 0 300 300] /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Type /Pages /Kids [6 0 R] /Count 1 >>",
    ],
    2: [
        b"<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>",
        b"<< /Type /Page /Parent 3 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Type /Page /Parent 99 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 1e10 1e10] /Contents 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 14400 14400] /UserUnit 75000 /Contents 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 -200 -100] /Contents 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 0 0] /Contents 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [(a) /b null true] /Contents 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox 5 0 R /Contents 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents [4 0 R 99 0 R 5 0 R] >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Rotate 45 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R /Resources 4 0 R >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R "
        b"/Resources << /XObject << /X 6 0 R /Y 3 0 R /Z 7 0 R >> >> >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R "
        b"/Annots [<< /Type /Annot /Subtype /Link /A << /S /Launch /F (cmd.exe) >> >> 7 0 R] /AA << /O 7 0 R >> >>",
        b"<< /Type /Page /MediaBox [0 0 200 100] /Contents 4 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
    ],
    3: [
        _stream(PDF_TEXT, b"/Filter /FlateDecode"),
        _stream(zlib.compress(PDF_TEXT * 50)[:40], b"/Filter /FlateDecode"),
        _stream(b"q 1 0 0 1 0 0 cm /X Do Q " * 20),
        _stream(b"BT /F9 12 Tf (x) Tj ET"),
        _stream(b"(((((((((" * 200 + b"BT"),
        b"<< /Length 99999 >>\nstream\n" + PDF_TEXT + b"\nendstream",
        b"<< /Length 5 0 R >>\nstream\n" + PDF_TEXT + b"\nendstream",
        _stream(b"\xff\xd8\xff" + b"\x00" * 30, b"/Filter /DCTDecode"),
        _stream(PDF_TEXT, b"/Filter [/ASCIIHexDecode /LZWDecode /RunLengthDecode /JBIG2Decode]"),
        b"null",
    ],
    4: [
        b"<< /Type /Font /Subtype /Type0 /BaseFont /X /DescendantFonts [4 0 R] /Encoding /Identity-H >>",
        b"<< /Type /Font /Subtype /Type3 /FontMatrix [0 0 0 0 0 0] /CharProcs 5 0 R /Encoding 5 0 R >>",
        b"<< /Type /Font /Subtype /TrueType /FontFile2 4 0 R >>",
    ],
}
PDF_EXTRA_OBJECTS = [
    _stream(
        b"0 0 m 10 10 l S /X Do",
        b"/Type /XObject /Subtype /Form /BBox [0 0 10 10] /Resources << /XObject << /X 6 0 R >> >> /Metadata 7 0 R",
    ),
    _stream(
        b"\x00" * 12,
        b"/Type /XObject /Subtype /Image /Width 60000 /Height 60000 /BitsPerComponent 8 /ColorSpace /DeviceRGB",
    ),
    b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 100] /Contents 4 0 R >>",
    b"<< /S /JavaScript /JS (this.exportDataObject({cName: 'a', nLaunch: 2})) >>",
    b"<< /Type /EmbeddedFile /Subtype /application#2Fx-msdownload /Length 4 >>\nstream\nMZ\x90\x00\nendstream",
    b"<< /Fields [] /XFA 6 0 R >>",
    b"6 0 R",
]
PDF_TRAILERS = [
    b"/Root 1 0 R",
    b"/Root 1 0 R /Info << /Author (\xfe\xff\x00x) /Title 7 0 R >>",
    b"/Root 1 0 R /Encrypt << /Filter /Standard /V 1 /R 2 /O <00> /U <00> /P -4 >>",
    b"/Root 1 0 R /ID [<00> <00>] /Prev 999999",
    b"/Root 99 0 R",
    b"",
]


@st.composite
def structured_pdf(draw) -> bytes:
    """A well-formed file (correct offsets, so the parsers get far) with hostile objects and trailer."""
    objects = list(PDF_OBJECTS)
    for index in draw(st.lists(st.sampled_from(sorted(PDF_VARIANTS)), max_size=3, unique=True)):
        objects[index] = draw(st.sampled_from(PDF_VARIANTS[index]))
    objects += draw(st.lists(st.sampled_from(PDF_EXTRA_OBJECTS), min_size=2, max_size=2))
    return pdf_from_objects(objects, draw(st.sampled_from(PDF_TRAILERS)))


# PNG chunks with correct CRCs, so Pillow looks at what they say rather than refusing a checksum.
def _ihdr(width: int, height: int, depth: int, colour: int, interlace: int = 0) -> bytes:
    return _png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, interlace))


PNG_HEADERS = [
    (depth, colour)
    for colour, depths in {0: (1, 2, 4, 8, 16), 2: (8, 16), 3: (1, 2, 4, 8), 4: (8, 16), 6: (8, 16)}.items()
    for depth in depths
] + [(7, 2), (8, 5), (32, 6)]
PNG_EXTRA_CHUNKS = [
    _png_chunk(b"PLTE", b"\x00\x00\x00\xff\xff\xff"),
    _png_chunk(b"PLTE", b"\x01"),
    _png_chunk(b"tRNS", b"\x00\x80"),
    _png_chunk(b"tRNS", b"\x00" * 300),
    _png_chunk(b"gAMA", b"\x00\x00\x00\x00"),
    _png_chunk(b"pHYs", b"\xff\xff\xff\xff\xff\xff\xff\xff\x01"),
    _png_chunk(b"iCCP", b"icc\x00\x00" + zlib.compress(b"\x00" * 200)),
    _png_chunk(b"zTXt", b"bomb\x00\x00" + zlib.compress(b"a" * 2_000_000)),
    _png_chunk(b"iTXt", b"k\x00\x01\x00\x00\x00" + b"\xff\xfe"),
    _png_chunk(
        b"eXIf", b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x09\x00\x00"
    ),
    _png_chunk(b"eXIf", b"II*\x00\xff\xff\xff\xff"),
    _png_chunk(b"acTL", b"\x00\x00\x00\x02\x00\x00\x00\x00"),
    _png_chunk(b"fcTL", b"\x00" * 26),
    _png_chunk(b"IDAT", b""),
    _png_chunk(b"IEND", b""),
]


@st.composite
def structured_png(draw) -> bytes:
    """A PNG of chunks with valid CRCs: any bit depth and colour type, odd sizes, odd chunks, little or no data."""
    width = draw(st.sampled_from([1, 2, 7, 64, 65535, 60000, 2**31 - 1]))
    height = draw(st.sampled_from([1, 3, 64, 60000, 0]))
    depth, colour = draw(st.sampled_from(PNG_HEADERS))
    row = 1 + (width * depth * 4 + 7) // 8 if width <= 64 else 64
    pixels = (
        zlib.compress(b"\x00" * row * min(height, 64))
        if draw(st.booleans())
        else draw(st.binary(max_size=64))
    )
    chunks = draw(st.lists(st.sampled_from(PNG_EXTRA_CHUNKS), max_size=3))
    out = b"\x89PNG\r\n\x1a\n" + _ihdr(width, height, depth, colour, draw(st.sampled_from([0, 0, 1, 2])))
    out += b"".join(chunks) + _png_chunk(b"IDAT", pixels)
    return out + _png_chunk(b"IEND", b"") if draw(st.booleans()) else out


@cache
def seeds() -> dict[str, bytes]:
    """Small valid files of every accepted type (and a few refused ones), the material mutations start from."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated: the re-encoding applies it
    rgb = Image.new("RGB", (24, 16), (200, 30, 30))
    jpeg_exif = io.BytesIO()
    rgb.save(jpeg_exif, "JPEG", exif=exif.tobytes())
    return {
        "png": image_bytes("seed", size=(40, 24)),
        "png_rgba": _image("RGBA", "PNG"),
        "png_palette": _image("P", "PNG"),
        "png_gray16": _image("I;16", "PNG"),
        "png_1bit": _image("1", "PNG"),
        "jpeg": image_bytes("seed", size=(40, 24), fmt="JPEG"),
        "jpeg_exif": jpeg_exif.getvalue(),
        "jpeg_cmyk": _image("CMYK", "JPEG"),
        "jpeg_progressive": _image("RGB", "JPEG", progressive=True),
        "pdf": _minimal_pdf(),
        "pdf_pillow": _image("RGB", "PDF"),
        "ofd": make_ofd.invoice_ofd(invoices.invoice_truth(random.Random(11), "digital2024")),
        "gif": _image("P", "GIF"),
        "bmp": _image("RGB", "BMP"),
        "webp": _image("RGB", "WEBP"),
        "tiff": _image("RGB", "TIFF"),
        "png_60000": _png_claiming(60000, 60000),
        "png_1x100m": _png_claiming(1, 100_000_000),
        "png_0x0": _png_claiming(0, 0),
        "jpeg_60000": _jpeg_claiming(60000, 60000),
        "jpeg_65535x1": _jpeg_claiming(65535, 1),
        "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
        "html": b"<html><body>%PDF-1.4</body></html>",
        "elf": b"\x7fELF\x02\x01\x01" + b"\x00" * 57,
    }


MAGICS = [b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"%PDF-", b"PK\x03\x04", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"]
# Padding sizes around the limits: in memory / spooled to a temporary file (2 MB), over MAX_DOCUMENT_BYTES.
PADDINGS = [0, 0, 0, 0, 0, 0, 2 * 1024 * 1024 + 1, 10 * 1024 * 1024 + 1]


@st.composite
def mutated(draw, base: bytes) -> bytes:
    """`base` after a few byte edits, truncations, deletions, duplications and splices."""
    data = bytearray(base)
    for _ in range(draw(st.integers(0, 4))):
        op = draw(st.sampled_from(["flip", "truncate", "delete", "insert", "duplicate", "splice"]))
        at = draw(st.integers(0, 2**16)) % (len(data) + 1)
        if op == "flip" and data:
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[at:]
        elif op == "delete":
            del data[at : at + draw(st.integers(1, 64))]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
        elif op == "duplicate":
            data[at:at] = data[at : at + draw(st.integers(1, 256))]
        elif op == "splice":
            other = seeds()[draw(st.sampled_from(sorted(seeds())))]
            start = draw(st.integers(0, 2**16)) % (len(other) + 1)
            data[at:] = other[start:]
    return bytes(data)


@st.composite
def hostile_content(draw) -> bytes:
    choice = draw(
        st.sampled_from(
            ["seed", "mutated", "mutated", "mutated", "pdf", "pdf", "png", "random", "magic", "empty"]
        )
    )
    if choice == "pdf":
        return draw(structured_pdf())
    if choice == "png":
        return draw(structured_png())
    if choice == "empty":
        return b""
    if choice == "random":
        return draw(st.binary(max_size=2048))
    if choice == "magic":
        return draw(st.sampled_from(MAGICS)) + draw(st.binary(max_size=512))
    base = seeds()[draw(st.sampled_from(sorted(seeds())))]
    content = base if choice == "seed" else draw(mutated(base))
    return content + b"\x00" * draw(st.sampled_from(PADDINGS))


def valid_content(draw) -> bytes:
    """A file the server accepts: distinct per draw, so no two submissions share a document by accident."""
    return image_bytes(
        f"ok {draw(st.integers(0, 10**9))}", size=(48, 32), fmt=draw(st.sampled_from(["PNG", "JPEG"]))
    )


FILE_NAMES = st.one_of(
    st.sampled_from(
        [
            "invoice.png",
            "发票.jpg",
            "",
            "../../../etc/passwd",
            "..\\..\\windows\\win.ini",
            "/etc/shadow",
            "a\x00b.png",
            "a" * 500 + ".pdf",
            "😀💥.pdf",
            "con.png",
            ".htaccess",
            "x.php%00.png",
            'quote".png',
            "semi;colon.png",
            "new\r\nline.png",
            "‮gnp.exe",
        ]
    ),
    st.text(max_size=300),
)
CONTENT_TYPES = st.one_of(
    st.sampled_from(
        [
            "image/png",
            "image/jpeg",
            "application/pdf",
            "application/ofd",
            "application/octet-stream",
            "text/html",
            "image/svg+xml",
            "application/x-msdownload",
            "multipart/mixed",
            "",
            None,
            "image/png; charset=\x00",
            "../../x",
        ]
    ),
    st.text(max_size=60),
)
ODD_VALUES = st.one_of(
    st.sampled_from(
        [
            "",
            " ",
            "\x00",
            "a\x00b",
            "1e400",
            "-1e400",
            "-158000.00",
            "-0",
            "NaN",
            "Infinity",
            "9" * 400,
            "x" * 10_000,
            "١٥٨٠٠٠",
            "158,000.00.00",
            "' OR 1=1 --",
            "<script>alert(1)</script>",
            "../../etc/passwd",
            "%00",
            "\ud7ff\ufeff\u200b",
            "2023-02-30",
            "0000-00-00",
            "99999-12-31",
            "invoice",
        ]
    ),
    st.text(max_size=64),
)


# --- Multipart bodies built by hand -----------------------------------------------------------------------------


def _header_text(value: str) -> bytes:
    return value.encode("utf-8", "surrogatepass")


def multipart(parts: list[tuple[str, str | None, str | None, bytes]]) -> tuple[bytes, str]:
    """(body, content type) for parts of (field name, file name or None for a text field, content type, data)."""
    blob = b"".join(p[3] for p in parts)
    boundary = secrets.token_hex(16)
    while boundary.encode() in blob:
        boundary = secrets.token_hex(16)
    out = bytearray()
    for name, filename, content_type, data in parts:
        out += b"--" + boundary.encode() + b"\r\n"
        disposition = b'Content-Disposition: form-data; name="' + _header_text(name) + b'"'
        if filename is not None:
            disposition += b'; filename="' + _header_text(filename) + b'"'
        out += disposition + b"\r\n"
        if content_type is not None:
            out += b"Content-Type: " + _header_text(content_type) + b"\r\n"
        out += b"\r\n" + data + b"\r\n"
    out += b"--" + boundary.encode() + b"--\r\n"
    return bytes(out), f"multipart/form-data; boundary={boundary}"


@st.composite
def body_shapes(draw, parts: list[tuple[str, str | None, str | None, bytes]]) -> tuple[bytes, str]:
    """The parts as a multipart body (mostly), or cut short, without its boundary, or in another format."""
    body, content_type = multipart(parts)
    shape = draw(
        st.sampled_from(["multipart"] * 24 + ["cut", "no boundary", "other boundary", "form", "raw"])
    )
    if shape == "multipart":
        return body, content_type
    if shape == "cut":
        return body[: draw(st.integers(0, 2**20)) % (len(body) + 1)], content_type
    if shape == "no boundary":
        return body, "multipart/form-data"
    if shape == "other boundary":
        return body, "multipart/form-data; boundary=" + draw(
            st.sampled_from(["x", "", '"', "a" * 300, "\u00e9"])
        )
    if shape == "form":
        text = {name: value.decode("utf-8", "replace") for name, _f, _t, value in parts if len(value) < 4096}
        return urlencode(text).encode(), "application/x-www-form-urlencoded"
    raw = b"".join(value for _n, filename, _t, value in parts if filename is not None)
    return raw, draw(
        st.sampled_from(["application/octet-stream", "image/png", "application/pdf", "text/plain"])
    )


@st.composite
def file_parts(draw, field: str, *, valid_weight: int) -> list[tuple[str, str | None, str | None, bytes]]:
    """The parts sent for one file field: none, one (valid or hostile), several, or text instead of a file."""
    how = draw(st.sampled_from(["valid"] * valid_weight + ["hostile"] * 3 + ["several", "text", "none"]))
    if how == "none":
        return []
    if how == "text":
        return [(field, None, None, draw(ODD_VALUES).encode("utf-8", "surrogatepass"))]
    count = draw(st.integers(2, 3)) if how == "several" else 1
    parts = []
    for _ in range(count):
        content = valid_content(draw) if how == "valid" else draw(hostile_content())
        parts.append((field, draw(FILE_NAMES), draw(CONTENT_TYPES), content))
    return parts


# --- What every answer must satisfy -----------------------------------------------------------------------------


def _written_rows() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in WRITTEN_MODELS}


def _file_roots() -> list[Path]:
    return [
        Path(django_settings.DOCUMENTS_DIR),
        Path(django_settings.MEDIA_ROOT),
        Path(django_settings.EXPORTS_DIR),
        Path(django_settings.FILE_UPLOAD_TEMP_DIR),
    ]


def _written_files() -> set[str]:
    found = set()
    for root in _file_roots():
        if root.exists():
            found.update(str(p) for p in root.rglob("*") if p.is_file())
    return found


def check_answer(response, before_rows, before_files, allowed_codes: set[str] | None = None) -> dict | None:
    """The contract for one answer; the JSON body of a refusal, or None for a success."""
    status = response.status_code
    assert status < 500, (status, response.content[:2000])
    if status < 400:
        return None
    assert response["Content-Type"].startswith("application/json"), (status, response.content[:500])
    body = response.json()
    assert isinstance(body, dict), body
    assert isinstance(body.get("code"), str) and CODE.match(body["code"]), body
    assert isinstance(body.get("message"), str) and CJK.search(body["message"]), body
    for errors in (body.get("fields") or {}).values():
        for error in errors:
            assert CODE.match(error["code"]) and CJK.search(error["message"]), body
    if allowed_codes is not None:
        assert body["code"] in allowed_codes, body
    assert _written_rows() == before_rows, ("a refusal wrote rows", body)
    assert _written_files() <= before_files, ("a refusal wrote files", body, _written_files() - before_files)
    return body


class Budget:
    """Examples run in Hypothesis batches of BATCH_SIZE until `seconds` have passed.

    Batch i is seeded with UPLOAD_FUZZ_SEED + i, so a run with the same UPLOAD_FUZZ_SEED repeats the same examples
    (as many batches as the time allows); a failure prints the seed and Hypothesis' reproduction blob.
    """

    def __init__(self, seconds: float, label: str):
        self.seconds, self.label = seconds, label
        self.examples = 0
        self.outcomes: Counter[str] = Counter()
        self.started = time.monotonic()

    def run(self, test) -> None:
        batch = 0
        while True:
            elapsed = time.monotonic() - self.started
            per_batch = elapsed / batch if batch else 0.0
            if batch and elapsed + per_batch > self.seconds:
                break
            wrapped = hypothesis_seed(BASE_SEED + batch)(
                hsettings(
                    max_examples=BATCH_SIZE,
                    deadline=None,
                    database=None,
                    derandomize=False,
                    print_blob=True,
                    suppress_health_check=list(HealthCheck),
                )(given(data=st.data())(test))
            )
            try:
                wrapped()
            except BaseException:
                print(f"{self.label}: failed in batch {batch}; repeat with UPLOAD_FUZZ_SEED={BASE_SEED}")
                raise
            batch += 1
        print(
            f"{self.label}: {self.examples} examples in {time.monotonic() - self.started:.1f} s "
            f"({batch} batches, UPLOAD_FUZZ_SEED={BASE_SEED}, {django_settings.DATABASES['default']['ENGINE']}); "
            + ", ".join(f"{outcome} {n}" for outcome, n in self.outcomes.most_common())
        )

    def record(self, response, refusal: dict | None) -> None:
        outcome = f"{response.status_code} {refusal['code']}" if refusal else str(response.status_code)
        if refusal and refusal.get("fields"):
            outcome += f" ({next(iter(refusal['fields']))})"
        self.outcomes[outcome] += 1


@pytest.fixture
def fuzz_env(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.FILE_UPLOAD_TEMP_DIR = tmp_path / "upload-tmp"
    Path(settings.FILE_UPLOAD_TEMP_DIR).mkdir()
    # Django logs every 4xx with its request attached, and pytest keeps each record until the test ends: with
    # thousands of requests of up to 50 MB that is gigabytes. Server errors are still logged (and fail the test).
    request_log = logging.getLogger("django.request")
    level = request_log.level
    request_log.setLevel(logging.ERROR)
    yield Client()
    request_log.setLevel(level)


# --- (a) staged uploads -----------------------------------------------------------------------------------------

# Mostly a valid kind, so that most examples reach the file itself.
KINDS = st.sampled_from([*DOCUMENT_KINDS, *DOCUMENT_KINDS, None]).flatmap(
    lambda k: st.just(k) if k else ODD_VALUES
)


@pytest.mark.django_db
def test_staged_upload_fuzz(fuzz_env):
    client = fuzz_env
    budget = Budget(BUDGET_SECONDS * UPLOAD_SHARE, "upload fuzz")

    def example(data):
        budget.examples += 1
        parts = []
        for _ in range(data.draw(st.sampled_from([1, 1, 1, 1, 0, 2]), label="kind fields")):
            parts.append(
                ("kind", None, None, data.draw(KINDS, label="kind").encode("utf-8", "surrogatepass"))
            )
        parts += data.draw(file_parts("file", valid_weight=2), label="file")
        if data.draw(st.integers(0, 4), label="other fields") == 0:
            name = data.draw(st.sampled_from(["invoice", "files", "file[]", "note", "kind\x00", "文件"]))
            parts.append((name, data.draw(st.one_of(st.none(), FILE_NAMES)), None, b"x"))
        data.draw(st.randoms(use_true_random=False), label="order").shuffle(parts)
        body, content_type = data.draw(body_shapes(parts), label="body")
        with transaction.atomic():
            before_rows, before_files = _written_rows(), _written_files()
            response = client.post("/api/v1/uploads/", body, content_type=content_type)
            refusal = check_answer(response, before_rows, before_files, UPLOAD_CODES)
            budget.record(response, refusal)
            if refusal is None:
                assert response.status_code == 201, response.content
                upload = StagedUpload.objects.get(upload_id=response.json()["upload_id"])
                stored = Path(django_settings.DOCUMENTS_DIR) / upload.storage_name
                assert StagedUpload.objects.count() == before_rows["StagedUpload"] + 1
                # What the worker does next with an accepted file: reading it never raises (ocr.reading).
                result = read_document(upload.kind, stored.read_bytes(), upload.content_type)
                assert result.status in READING_STATUSES, result
            transaction.set_rollback(True)

    budget.run(example)
    assert budget.examples > 0


# --- (b) claim submissions --------------------------------------------------------------------------------------

FIELDS = list(claim_payload("x"))


@pytest.mark.django_db
def test_claim_submission_fuzz(fuzz_env, program):
    client = fuzz_env
    budget = Budget(BUDGET_SECONDS * CLAIM_SHARE, "claim fuzz")
    # Staged uploads a submission may name instead of sending the file.
    staged = {
        kind: upload_stage(
            kind, SimpleUploadedFile(f"{kind}.png", image_bytes(f"staged {kind}", size=(48, 32))), "10.9.9.9"
        ).upload_id
        for kind in DOCUMENT_KINDS
    }

    def example(data):
        budget.examples += 1
        fields: dict[str, object] = claim_payload(program.code)
        odd = data.draw(st.sampled_from([0, 0, 0, 1, 1, 2, 4]))
        for name in data.draw(st.lists(st.sampled_from(FIELDS), min_size=odd, max_size=odd, unique=True)):
            how = data.draw(st.sampled_from(["odd", "odd", "missing", "twice"]))
            if how == "missing":
                del fields[name]
            elif how == "twice":
                fields[name] = [fields[name], data.draw(ODD_VALUES)]
            else:
                fields[name] = data.draw(ODD_VALUES, label=name)
        as_json = data.draw(st.sampled_from([False, False, False, True]), label="json")
        headers = {}
        if data.draw(st.integers(0, 3), label="idempotency key") == 0:
            headers["HTTP_IDEMPOTENCY_KEY"] = data.draw(st.one_of(st.text(max_size=300), ODD_VALUES))
        if as_json:
            body = dict(fields)
            for kind in DOCUMENT_KINDS:
                body[f"{kind}_upload"] = data.draw(
                    st.one_of(
                        st.just(staged[kind]),
                        st.just(staged[kind]),
                        st.sampled_from([staged[k] for k in DOCUMENT_KINDS]),
                        ODD_VALUES,
                        st.integers(),
                        st.floats(),
                        st.lists(st.just(staged[kind]), max_size=2),
                        st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=2),
                        st.none(),
                    ),
                    label=f"{kind}_upload",
                )
            if data.draw(st.booleans(), label="raw amount number"):
                body["invoice_amount"] = data.draw(
                    st.sampled_from([1e300, -1.0, 158000, 10**400, True, None])
                )
            # json cannot write 1e400 (the server's parser reads it as infinity): written over 1e300.
            payload = json.dumps(body, ensure_ascii=data.draw(st.booleans())).replace("1e+300", "1e400")
            response_args = (payload.encode("utf-8", "surrogatepass"), "application/json")
        else:
            parts = []
            for name, value in fields.items():
                for item in value if isinstance(value, list) else [value]:
                    parts.append((name, None, None, str(item).encode("utf-8", "surrogatepass")))
            for kind in DOCUMENT_KINDS:
                parts += data.draw(file_parts(kind, valid_weight=8), label=kind)
                if data.draw(st.integers(0, 19), label=f"{kind}_upload?") == 0:
                    parts.append(
                        (f"{kind}_upload", None, None, data.draw(ODD_VALUES).encode("utf-8", "surrogatepass"))
                    )
            data.draw(st.randoms(use_true_random=False), label="order").shuffle(parts)
            response_args = data.draw(body_shapes(parts), label="body")
        with transaction.atomic():
            before_rows, before_files = _written_rows(), _written_files()
            response = client.post(
                "/api/v1/claims/", response_args[0], content_type=response_args[1], **headers
            )
            refusal = check_answer(response, before_rows, before_files)
            budget.record(response, refusal)
            if refusal is None:
                assert response.status_code == 201, response.content
                claim = Claim.objects.get(claim_number=response.json()["claim_number"])
                assert claim.documents.filter(is_current=True).count() == len(DOCUMENT_KINDS)
            transaction.set_rollback(True)

    budget.run(example)
    assert budget.examples > 0
