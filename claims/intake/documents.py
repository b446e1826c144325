"""Intake and storage of the documents uploaded with a claim .

`document_inspect` decides a file's type from its content (magic bytes and a successful decode), never from its
name or declared type, enforces the size, pixel and page limits, re-encodes images (which drops EXIF and any
payload appended after the image data) and rewrites PDFs without their active content and metadata. Decoding runs
in a child process under memory, CPU and time limits (`subsidy.isolation`): a file that needs more is refused. `document_store` writes the result under DOCUMENTS_DIR, named by the hash
of what is stored, so storing the same content twice yields one file.

Every refusal is `FieldError("invalid_file", <Chinese message>, field=kind)`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import logging
import math
import os
import re
import tempfile
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from claims.errors import FieldError
from claims.vocabulary import DOCUMENT_KINDS
from ocr import ofd, pdf
from ocr.preprocess import RAPID_MAX_SIDE
from subsidy.isolation import ChildStalled, IsolationError, Limits, run_isolated

__all__ = [
    "DOCUMENT_KINDS",
    "InspectedDocument",
    "document_discard",
    "document_journal_close",
    "document_journal_entries",
    "document_journal_open",
    "document_inspect",
    "document_path",
    "document_store",
]

logger = logging.getLogger(__name__)


JPEG_QUALITY = 90
# A PDF page must be renderable at this resolution within MAX_DOCUMENT_PIXELS (A0 at 150 dpi is ~17.5 Mpx).
PDF_CHECK_DPI = 150

_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_PDF_MAGIC = b"%PDF-"
_ZIP_MAGIC = b"PK\x03\x04"  # OFD (GB/T 33190) files are zip packages

_EXIF_ORIENTATION = 0x0112

# Every image plugin loaded now, in the parent: decoding runs in forked children, which must not import.
Image.init()

_STORAGE_NAME_RE = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})\.(jpg|png|pdf|ofd)")


class UploadedFileLike(Protocol):
    name: str | None

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class InspectedDocument:
    """An accepted upload, ready to be stored."""

    kind: str
    content: bytes = field(repr=False)  # what will be stored (re-encoded images, rewritten PDFs)
    content_type: str  # image/jpeg, image/png, application/pdf or (invoices only) application/ofd
    extension: str  # jpg, png, pdf or ofd (no dot)
    sha256: str  # hex SHA-256 of the bytes as uploaded: the duplicate_document check compares this
    stored_sha256: str  # hex SHA-256 of `content`: the storage name
    size: int  # len(content)
    width: int | None  # pixels for images; None for PDF and OFD files
    height: int | None
    pages: int  # 1 for images
    original_size: int = 0  # bytes as uploaded

    @property
    def storage_name(self) -> str:
        """Where `document_store` puts (or found) this content, relative to DOCUMENTS_DIR."""
        h = self.stored_sha256
        return f"{h[:2]}/{h[2:4]}/{h}.{self.extension}"


def _refuse(kind: str, message: str) -> FieldError:
    return FieldError("invalid_file", message, field=kind)


def _mb(n: int) -> str:
    return f"{n / (1024 * 1024):g}"


# --- Reading ----------------------------------------------------------------------------------------------------


def _read_limited(f: UploadedFileLike, kind: str, limit: int) -> bytes:
    """At most limit + 1 bytes from the start of f; more than `limit` is a refusal."""
    too_large = _refuse(kind, _("文件过大：每个文件不能超过 %(mb)s MB。") % {"mb": _mb(limit)})
    declared = getattr(f, "size", None)
    if isinstance(declared, int) and declared > limit:
        raise too_large
    seek = getattr(f, "seek", None)
    if callable(seek):
        try:
            seek(0)
        except (OSError, ValueError):  # not seekable: read from wherever it is
            pass
    chunks: list[bytes] = []
    remaining = limit + 1
    while remaining > 0:
        chunk = f.read(min(remaining, 1024 * 1024))
        if not chunk:
            break
        if isinstance(chunk, str):  # a text-mode file is never a valid document
            raise _refuse(kind, _("文件类型不支持：只接受 JPEG、PNG 或 PDF 文件。"))
        chunks.append(chunk)
        remaining -= len(chunk)
    data = b"".join(chunks)
    if len(data) > limit:
        raise too_large
    if not data:
        raise _refuse(kind, _("文件为空，请重新上传。"))
    return data


# --- Images -----------------------------------------------------------------------------------------------------

# Photos are stored no larger than needed: a JPEG whose long side is twice this or more is decoded at a reduced
# scale, never below what the OCR reads at (RapidOCR brings every image to this long side anyway); at this size a
# reviewer still reads every character of an ID card or an invoice.
STORED_PHOTO_MIN_LONG_SIDE = RAPID_MAX_SIDE


def _open_image(data: bytes, kind: str, formats: tuple[str, ...]) -> Image.Image:
    damaged = _refuse(kind, _("图片文件已损坏或不完整，无法读取，请重新上传。"))
    too_many_pixels = _refuse(
        kind,
        _("图片像素过多：不能超过 %(mp)s 万像素，请缩小后重新上传。")
        % {"mp": f"{settings.MAX_DOCUMENT_PIXELS / 10_000:g}"},
    )
    try:
        img = Image.open(io.BytesIO(data), formats=list(formats))
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise too_many_pixels from None
    except Exception as exc:  # Pillow raises many types for malformed headers
        logger.info("document %s: header not readable: %r", kind, exc)
        raise damaged from None
    width, height = img.size
    # The header's size, checked before anything is decoded.
    if width <= 0 or height <= 0:
        raise damaged
    if width * height > settings.MAX_DOCUMENT_PIXELS:
        raise too_many_pixels
    if img.format in ("JPEG", "MPO") and max(width, height) >= 2 * STORED_PHOTO_MIN_LONG_SIDE:
        # The decoder's own scaling (1/2, 1/4, 1/8) to the smallest size whose long side is still at least
        # STORED_PHOTO_MIN_LONG_SIDE: no resampling pass, and half the CPU of a 12-megapixel phone photo.
        scale = STORED_PHOTO_MIN_LONG_SIDE / max(width, height)
        img.draft(img.mode, (math.ceil(width * scale), math.ceil(height * scale)))
    try:
        img.load()  # truncated data raises (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise too_many_pixels from None
    except Exception as exc:
        logger.info("document %s: image data not decodable: %r", kind, exc)
        raise damaged from None
    return img


def _orient(img: Image.Image, kind: str) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block is ignored rather than refused.

    An upright image is returned as it is (no copy): a 40-megapixel picture takes 160 MB decoded.
    """
    try:
        if img.getexif().get(_EXIF_ORIENTATION, 1) in (None, 1):
            return img
        oriented = ImageOps.exif_transpose(img)
    except Exception as exc:
        logger.info("document %s: EXIF orientation ignored: %r", kind, exc)
        return img
    return _replace(img, oriented)


def _replace(old: Image.Image, new: Image.Image | None) -> Image.Image:
    """`new` in place of `old`, whose pixels are freed at once (at most two decoded copies ever exist)."""
    if new is None or new is old:
        return old
    old.close()
    return new


def _for_jpeg(img: Image.Image) -> Image.Image:
    if img.mode in ("RGB", "L"):
        return img
    if img.mode in ("RGBA", "LA", "PA", "P") or "transparency" in img.info:
        return _flatten(img)
    return img.convert("RGB")  # CMYK, YCbCr, I;16 ...


def _flatten(img: Image.Image) -> Image.Image:
    rgba = img.convert("RGBA")
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _for_png(img: Image.Image) -> Image.Image:
    has_transparency = "transparency" in img.info
    if img.mode in ("P", "PA"):
        return img.convert("RGBA" if has_transparency or img.mode == "PA" else "RGB")
    if img.mode == "1":
        return img.convert("L")
    if img.mode in ("L", "RGB") and has_transparency:
        return img.convert("LA" if img.mode == "L" else "RGBA")
    if img.mode in ("L", "LA", "RGB", "RGBA", "I;16", "I;16B", "I;16L", "I"):
        return img
    return img.convert("RGBA" if "A" in img.getbands() else "RGB")  # CMYK, F, LAB ...


def _reencode(img: Image.Image, kind: str, fmt: str) -> tuple[bytes, tuple[int, int]]:
    """The image saved afresh in `fmt`, and its (width, height) after orientation."""
    img = _orient(img, kind)
    out = io.BytesIO()
    try:
        img = _replace(img, _for_jpeg(img) if fmt == "JPEG" else _for_png(img))
        if img.mode in ("I;16B", "I;16L"):
            img = _replace(img, img.convert("I;16"))
        # A fresh info dict: nothing of the original's metadata (EXIF, ICC, XMP, text chunks, dpi) is written back.
        img.info = {}
        if fmt == "JPEG":
            img.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
        else:
            img.save(out, format="PNG", optimize=False, compress_level=6)
    except MemoryError:  # over the child's memory limit: reported as such by the isolation
        raise
    except Exception as exc:  # a palette or mode Pillow cannot convert, a side longer than JPEG's 65535 limit
        logger.info("document %s: re-encoding failed: %r", kind, exc)
        raise _refuse(kind, _("图片无法处理，请转换为常见的 JPEG 或 PNG 格式后重新上传。")) from None
    return out.getvalue(), img.size


# --- PDF --------------------------------------------------------------------------------------------------------


def _clean_pdf(data: bytes, kind: str) -> pdf.CleanPdf:
    """An acceptable PDF rewritten without active content; refuses encrypted, damaged, empty, too long, too large
    or too complex ones (over the parsing limits)."""
    max_pages = settings.MAX_PDF_PAGES
    max_points = settings.MAX_DOCUMENT_PIXELS * (72 / PDF_CHECK_DPI) ** 2
    try:
        return pdf.pdf_clean(data, max_pages, max_points)
    except pdf.PdfEncrypted:
        raise _refuse(kind, _("PDF 文件已加密或设有密码，请上传未加密的文件。")) from None
    except pdf.PdfEmpty:
        raise _refuse(kind, _("PDF 文件没有页面，请重新上传。")) from None
    except pdf.PdfTooManyPages as exc:
        raise _refuse(
            kind,
            _("PDF 文件页数过多：最多 %(max)s 页，此文件有 %(pages)s 页。")
            % {"max": max_pages, "pages": exc.pages},
        ) from None
    except pdf.PdfPageTooLarge:
        raise _refuse(kind, _("PDF 页面尺寸过大，请按 A4 等常见纸张尺寸重新生成后上传。")) from None
    except pdf.PdfTooComplex as exc:
        logger.info("document %s: PDF over the parsing limits: %s", kind, exc)
        raise _refuse(kind, _TOO_COMPLEX) from None
    except pdf.PdfError as exc:
        logger.info("document %s: PDF not readable: %s", kind, exc)
        raise _refuse(kind, _("PDF 文件已损坏，无法打开，请重新上传。")) from None


# --- Isolation --------------------------------------------------------------------------------------------------

_TOO_COMPLEX = _(
    "文件内容过于复杂，超出了系统的处理限制。请重新导出或拍照后以 JPEG、PNG 或普通 PDF 文件上传。"
)


def _image_limits(data: bytes, kind: str, formats: tuple[str, ...]) -> Limits:
    """Limits for decoding this image: room for two decoded copies (Pillow keeps 4 bytes a pixel) beside the
    usual allowance. The header is read here (no pixel data); an unreadable header is the child's to refuse."""
    try:
        with Image.open(io.BytesIO(data), formats=list(formats)) as img:
            width, height = img.size
    except Exception:  # noqa: BLE001 - refused with the right message by the child
        return Limits()
    pixels = min(max(width, 0) * max(height, 0), settings.MAX_DOCUMENT_PIXELS)
    need_mb = math.ceil(pixels * 4 * 2 / 2**20) + 64
    return Limits(memory_mb=max(settings.DOCUMENT_MEMORY_LIMIT_MB, need_mb))


def _reencode_image(data: bytes, kind: str, is_jpeg: bool) -> tuple[bytes, tuple[int, int]]:
    """Decode and re-encode one image (run in the child process)."""
    # Phone cameras write multi-picture JPEGs, which Pillow reports as MPO; the first picture is the photo.
    img = _open_image(data, kind, _IMAGE_FORMATS[is_jpeg])
    try:
        return _reencode(img, kind, "JPEG" if is_jpeg else "PNG")
    finally:
        img.close()


_IMAGE_FORMATS = {True: ("JPEG", "MPO"), False: ("PNG",)}


def _image(data: bytes, kind: str, is_jpeg: bool) -> tuple[bytes, tuple[int, int]]:
    limits = _image_limits(data, kind, _IMAGE_FORMATS[is_jpeg])
    try:
        try:
            return run_isolated(_reencode_image, data, kind, is_jpeg, limits=limits)
        except ChildStalled:  # the machine, not the file: once more, then the request fails as unavailable
            return run_isolated(_reencode_image, data, kind, is_jpeg, limits=limits)
    except ChildStalled:
        raise
    except IsolationError as exc:
        logger.info("document %s: image over the parsing limits: %s", kind, exc)
        raise _refuse(kind, _TOO_COMPLEX) from None


# --- OFD --------------------------------------------------------------------------------------------------------


def _ofd_page_count(data: bytes) -> int:
    return len(ofd.inspect(data).pages)


def _inspect_ofd(data: bytes, kind: str) -> int:
    """The page count of an acceptable OFD invoice: a zip of XML, validated as hostile input under the parsing
    limits."""
    try:
        return run_isolated(_ofd_page_count, data)
    except ofd.OfdError as exc:
        logger.info("document %s: OFD refused: %s", kind, exc)
        raise _refuse(
            kind, _("OFD 文件无效：%(reason)s。请上传税务系统下载的原始 OFD 文件。") % {"reason": exc}
        ) from None
    except ChildStalled:  # the machine, not the file: the request fails as unavailable
        raise
    except IsolationError as exc:
        logger.info("document %s: OFD over the parsing limits: %s", kind, exc)
        raise _refuse(kind, _TOO_COMPLEX) from None


# --- Public API -------------------------------------------------------------------------------------------------


def document_inspect(f: UploadedFileLike, kind: str) -> InspectedDocument:
    """Read, identify, check and (for images) re-encode one uploaded file. Raises FieldError('invalid_file')."""
    data = _read_limited(f, kind, settings.MAX_DOCUMENT_BYTES)
    sha256 = hashlib.sha256(data).hexdigest()
    width: int | None
    height: int | None
    if data.startswith(_JPEG_MAGIC) or data.startswith(_PNG_MAGIC):
        is_jpeg = data.startswith(_JPEG_MAGIC)
        content, (width, height) = _image(data, kind, is_jpeg)
        content_type, extension, pages = ("image/jpeg", "jpg", 1) if is_jpeg else ("image/png", "png", 1)
    elif data.startswith(_PDF_MAGIC):
        clean = _clean_pdf(data, kind)
        content, content_type, extension, pages = clean.content, "application/pdf", "pdf", clean.pages
        width = height = None
    elif data.startswith(_ZIP_MAGIC) and kind == "invoice":
        pages = _inspect_ofd(data, kind)
        content, content_type, extension = data, ofd.OFD_CONTENT_TYPE, "ofd"
        width = height = None
    else:
        raise _refuse(
            kind,
            _(
                "文件类型不支持：只接受 JPEG、PNG 或 PDF 文件，全电发票还可以是 OFD 文件（按文件内容判断，而非文件名）。"
            ),
        )
    return InspectedDocument(
        kind=kind,
        content=content,
        content_type=content_type,
        extension=extension,
        sha256=sha256,
        stored_sha256=sha256 if content is data else hashlib.sha256(content).hexdigest(),
        size=len(content),
        width=width,
        height=height,
        pages=pages,
        original_size=len(data),
    )


def _documents_root() -> Path:
    return Path(settings.DOCUMENTS_DIR)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # platforms without directory handles
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def document_store(doc: InspectedDocument) -> tuple[str, bool]:
    """Write doc.content to DOCUMENTS_DIR/<aa>/<bb>/<stored_sha256>.<ext>, atomically and mode 0o600.

    Returns (storage_name, created). `created` is False when the same content was already stored (by an earlier
    claim, or concurrently by another request): such a file belongs to someone else and must not be discarded.
    """
    name = doc.storage_name
    target = document_path(name)
    if target.exists() and target.stat().st_size == len(doc.content):
        return name, False
    directory = target.parent
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".tmp-", suffix=f".{doc.extension}")  # mode 0o600
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(doc.content)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        try:
            # A hard link publishes the complete file only if the name is free, so of two requests storing the
            # same content at once exactly one gets created=True.
            os.link(tmp, target)
            created = True
        except FileExistsError:
            if target.stat().st_size == len(doc.content):
                created = False
            else:  # a damaged earlier copy (should not happen): replace it with the good content
                os.replace(tmp, target)
                created = True
        except OSError:  # filesystem without hard links
            created = not target.exists()
            os.replace(tmp, target)
        _fsync_dir(directory)
    finally:
        tmp.unlink(missing_ok=True)
    return name, created


def document_discard(storage_name: str) -> None:
    """Delete a stored file (clean-up after a failed submission). A missing file is not an error."""
    path = document_path(storage_name)
    path.unlink(missing_ok=True)
    _fsync_dir(path.parent)


def document_path(storage_name: str) -> Path:
    """The absolute path of a stored document. Anything that is not a storage name we produce is refused."""
    if not isinstance(storage_name, str) or not _STORAGE_NAME_RE.fullmatch(storage_name):
        raise SuspiciousFileOperation(f"not a document storage name: {storage_name!r}")
    aa, bb, digest, _ext = _STORAGE_NAME_RE.fullmatch(storage_name).groups()
    if digest[:2] != aa or digest[2:4] != bb:
        raise SuspiciousFileOperation(f"not a document storage name: {storage_name!r}")
    root = _documents_root().resolve()
    path = (root / storage_name).resolve()
    if not path.is_relative_to(root):
        raise SuspiciousFileOperation(f"document path escapes DOCUMENTS_DIR: {storage_name!r}")
    return path


# --- Clean-up journal -------------------------------------------------------------------------------------------
#
# A submission stores its files before the transaction that references them. Before storing, it records their names
# in a journal entry (a small file under DOCUMENTS_DIR/.journal/), and removes the entry once the transaction has
# committed or the files are cleaned up. An entry that stays behind (the process died, or a file could not be
# removed) is finished by the periodic sweep, which deletes the named files no claim references. The journal needs
# no database: it works when the database is the thing that failed.

JOURNAL_DIR_NAME = ".journal"


def _journal_dir() -> Path:
    return _documents_root() / JOURNAL_DIR_NAME


def document_journal_open(names: Iterable[str]) -> Path:
    """Record, durably, that files with these storage names are about to be stored for a submission."""
    valid = [document_path(name) and name for name in names]  # refuses anything that is not a storage name
    directory = _journal_dir()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    entry = directory / f"{uuid.uuid4().hex}.json"
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "w") as out:
            json.dump({"names": valid}, out)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp_name, entry)
    finally:
        Path(tmp_name).unlink(missing_ok=True)
    _fsync_dir(directory)
    return entry


def document_journal_close(entry: Path) -> None:
    """The submission committed, or its files are cleaned up: forget the entry."""
    entry.unlink(missing_ok=True)


def document_journal_entries(older_than: dt.timedelta) -> list[tuple[Path, list[str]]]:
    """Entries left for longer than `older_than` (a submission takes seconds), with the names they list."""
    directory = _journal_dir()
    if not directory.is_dir():
        return []
    cutoff = time.time() - older_than.total_seconds()
    found: list[tuple[Path, list[str]]] = []
    for entry in sorted(directory.glob("*.json")):
        try:
            if entry.stat().st_mtime > cutoff:
                continue
            names = json.loads(entry.read_text())["names"]
        except FileNotFoundError:  # closed meanwhile
            continue
        except (OSError, ValueError, KeyError, TypeError) as exc:
            logger.warning("document journal entry %s unreadable (%r): removed", entry.name, exc)
            entry.unlink(missing_ok=True)
            continue
        found.append((entry, [n for n in names if isinstance(n, str) and _STORAGE_NAME_RE.fullmatch(n)]))
    return found
