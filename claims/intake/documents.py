"""Intake and storage of the documents uploaded with a claim .

`document_inspect` decides a file's type from its content (magic bytes and a successful decode), never from its
name or declared type, enforces the size, pixel and page limits, and re-encodes images (which drops EXIF and any
payload appended after the image data). `document_store` writes the result under DOCUMENTS_DIR, named by the hash
of what is stored, so storing the same content twice yields one file.

Every refusal is `FieldError("invalid_file", <Chinese message>, field=kind)`.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pypdfium2
import pypdfium2.raw as pdfium_c
from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps

from claims.errors import FieldError
from claims.vocabulary import DOCUMENT_KINDS
from ocr import ofd
from ocr.pdf import pdfium_lock

__all__ = [
    "DOCUMENT_KINDS",
    "InspectedDocument",
    "document_discard",
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

_STORAGE_NAME_RE = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/([0-9a-f]{64})\.(jpg|png|pdf|ofd)")


class UploadedFileLike(Protocol):
    name: str | None

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True)
class InspectedDocument:
    """An accepted upload, ready to be stored."""

    kind: str
    content: bytes = field(repr=False)  # what will be stored (re-encoded for images, as uploaded for PDFs)
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
    try:
        img.load()  # truncated data raises (ImageFile.LOAD_TRUNCATED_IMAGES stays False)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning, MemoryError):
        raise too_many_pixels from None
    except Exception as exc:
        logger.info("document %s: image data not decodable: %r", kind, exc)
        raise damaged from None
    return img


def _orient(img: Image.Image, kind: str) -> Image.Image:
    """Apply the EXIF orientation; a broken EXIF block is ignored rather than refused."""
    try:
        oriented = ImageOps.exif_transpose(img)
    except Exception as exc:
        logger.info("document %s: EXIF orientation ignored: %r", kind, exc)
        return img
    return oriented if oriented is not None else img


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
    img = _for_jpeg(img) if fmt == "JPEG" else _for_png(img)
    if img.mode in ("I;16B", "I;16L"):
        img = img.convert("I;16")
    # A fresh info dict: nothing of the original's metadata (EXIF, ICC, XMP, text chunks, dpi) is written back.
    img.info = {}
    out = io.BytesIO()
    try:
        if fmt == "JPEG":
            img.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=False, progressive=False)
        else:
            img.save(out, format="PNG", optimize=False, compress_level=6)
    except Exception as exc:  # e.g. a side longer than JPEG's 65535 limit
        logger.info("document %s: re-encoding failed: %r", kind, exc)
        raise _refuse(kind, _("图片无法处理，请转换为常见的 JPEG 或 PNG 格式后重新上传。")) from None
    return out.getvalue(), img.size


# --- PDF --------------------------------------------------------------------------------------------------------


def _inspect_pdf(data: bytes, kind: str) -> int:
    """The page count of an acceptable PDF; refuses encrypted, damaged, empty or too long ones."""
    damaged = _refuse(kind, _("PDF 文件已损坏，无法打开，请重新上传。"))
    encrypted = _refuse(kind, _("PDF 文件已加密或设有密码，请上传未加密的文件。"))
    max_pages = settings.MAX_PDF_PAGES
    max_points = settings.MAX_DOCUMENT_PIXELS * (72 / PDF_CHECK_DPI) ** 2
    with pdfium_lock:
        try:
            pdf = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            if "password" in str(exc).lower() or "security" in str(exc).lower():
                raise encrypted from None
            logger.info("document %s: PDF not opened: %r", kind, exc)
            raise damaged from None
        except Exception as exc:
            logger.info("document %s: PDF not opened: %r", kind, exc)
            raise damaged from None
        try:
            # -1 means no security handler; anything else is an encrypted file (even with an empty password).
            if pdfium_c.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1:
                raise encrypted
            pages = len(pdf)
            if pages < 1:
                raise _refuse(kind, _("PDF 文件没有页面，请重新上传。"))
            if pages > max_pages:
                raise _refuse(
                    kind,
                    _("PDF 文件页数过多：最多 %(max)s 页，此文件有 %(pages)s 页。")
                    % {"max": max_pages, "pages": pages},
                )
            for index in range(pages):
                try:
                    page = pdf[index]
                    width, height = page.get_size()
                    page.close()
                except Exception as exc:
                    logger.info("document %s: PDF page %d not loaded: %r", kind, index, exc)
                    raise damaged from None
                if not (width > 0 and height > 0):
                    raise damaged
                if width * height > max_points:
                    raise _refuse(kind, _("PDF 页面尺寸过大，请按 A4 等常见纸张尺寸重新生成后上传。"))
            return pages
        finally:
            pdf.close()


# --- OFD --------------------------------------------------------------------------------------------------------


def _inspect_ofd(data: bytes, kind: str) -> int:
    """The page count of an acceptable OFD invoice (a zip of XML, validated as hostile input)."""
    try:
        return len(ofd.inspect(data).pages)
    except ofd.OfdError as exc:
        logger.info("document %s: OFD refused: %s", kind, exc)
        raise _refuse(
            kind, _("OFD 文件无效：%(reason)s。请上传税务系统下载的原始 OFD 文件。") % {"reason": exc}
        ) from None


# --- Public API -------------------------------------------------------------------------------------------------


def document_inspect(f: UploadedFileLike, kind: str) -> InspectedDocument:
    """Read, identify, check and (for images) re-encode one uploaded file. Raises FieldError('invalid_file')."""
    data = _read_limited(f, kind, settings.MAX_DOCUMENT_BYTES)
    sha256 = hashlib.sha256(data).hexdigest()
    width: int | None
    height: int | None
    if data.startswith(_JPEG_MAGIC) or data.startswith(_PNG_MAGIC):
        is_jpeg = data.startswith(_JPEG_MAGIC)
        # Phone cameras write multi-picture JPEGs, which Pillow reports as MPO; the first picture is the photo.
        img = _open_image(data, kind, ("JPEG", "MPO") if is_jpeg else ("PNG",))
        try:
            fmt = "JPEG" if is_jpeg else "PNG"
            content, (width, height) = _reencode(img, kind, fmt)
        finally:
            img.close()
        content_type, extension, pages = ("image/jpeg", "jpg", 1) if is_jpeg else ("image/png", "png", 1)
    elif data.startswith(_PDF_MAGIC):
        pages = _inspect_pdf(data, kind)
        content, content_type, extension = data, "application/pdf", "pdf"
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
