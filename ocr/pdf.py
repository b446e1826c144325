"""PDFs: inspection and cleaning at upload, the text layer (NFKC-normalised) or page 1 rendered for OCR.

PDFium (pypdfium2) parses the file, and a PDF's cost is set by its content, not its size: a 1 MB file can unpack
into gigabytes of page content. Every call into PDFium here therefore runs in a child process under hard memory,
CPU and wall-clock limits (`subsidy.isolation`); a file over them raises `PdfTooComplex`.
"""

from __future__ import annotations

import io
import unicodedata
from dataclasses import dataclass

import pikepdf
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from PIL import Image

from subsidy.isolation import ChildStalled, IsolationError, Limits, in_process_lock, run_isolated

from .engines import TextLine

__all__ = [
    "PDF_ENGINE",
    "CleanPdf",
    "PdfEmpty",
    "PdfEncrypted",
    "PdfError",
    "PdfPageTooLarge",
    "PdfTooComplex",
    "PdfTooManyPages",
    "is_pdf",
    "pdf_clean",
    "pdfium_lock",
    "render_first_page",
    "text_layer_lines",
]

PDF_ENGINE = "pdf-text"
RENDER_DPI = 300
MAX_RENDER_SIDE = 3508  # A4 at 300 dpi
# Rendering decodes the page's images (a scan may hold a 40-megapixel photo, 160 MB decoded) besides the bitmap:
# the worker's render child gets this much room, more than the upload check needs.
RENDER_MEMORY_MB = 512

# Page keys that carry actions, attachments or metadata; none is needed to show or read the page.
_PAGE_KEYS_DROPPED = ("/Annots", "/AA", "/Metadata", "/PieceInfo", "/AF", "/Thumb", "/B", "/Trans")
_INHERITABLE = ("/Resources", "/MediaBox", "/CropBox", "/Rotate")
_RESOURCE_KEYS_DROPPED = ("/Metadata", "/PieceInfo", "/AF", "/OPI")


class PdfError(ValueError):
    """The file is not a readable PDF."""


class PdfEncrypted(PdfError):
    """The PDF is encrypted or password protected."""


class PdfEmpty(PdfError):
    """The PDF has no page."""


class PdfTooManyPages(PdfError):
    """More pages than allowed; ``pages`` is how many it has."""

    def __init__(self, message: str, pages: int = 0):
        super().__init__(message)
        self.pages = pages


class PdfPageTooLarge(PdfError):
    """A page is larger than allowed."""


class PdfTooComplex(PdfError):
    """Reading the PDF went over the memory or time limits."""


# PDFium is not thread-safe: a call into it in this process (only when isolation is off) holds this lock.
pdfium_lock = in_process_lock


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF") or b"%PDF-" in data[:1024]


def _isolated(func, *args, limits: Limits | None = None):
    try:
        try:
            return run_isolated(func, *args, limits=limits)
        except (
            ChildStalled
        ):  # the machine, not the file: once more, then the caller sees an unavailable service
            return run_isolated(func, *args, limits=limits)
    except ChildStalled:
        raise
    except IsolationError as exc:
        raise PdfTooComplex(f"PDF 超出处理限制：{exc}") from None


def _open(data: bytes) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower() or "security" in str(exc).lower():
            raise PdfEncrypted(f"PDF 已加密：{exc}") from None
        raise PdfError(f"PDF 无法打开：{exc}") from None
    except Exception as exc:  # noqa: BLE001 - anything PDFium does not like is a damaged file
        raise PdfError(f"PDF 无法打开：{exc!r}") from None


# --- upload: inspect and clean ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CleanPdf:
    """An accepted PDF: its page count and the file rewritten without active content or metadata."""

    pages: int
    content: bytes


def pdf_clean(data: bytes, max_pages: int, max_page_points: float) -> CleanPdf:
    """Check a PDF (not encrypted, 1..max_pages pages, each page's area within max_page_points, every page's
    content parsable within the limits) and rewrite it keeping only the pages.

    The rewrite keeps each page's content and resources (so a text layer stays readable) and drops everything
    else: the document catalogue with its OpenAction, JavaScript, embedded files, forms and outlines, the
    document information and XMP metadata, and each page's annotations (links, attachments, widgets) and actions.
    Raises a PdfError subclass.
    """
    return _isolated(_pdf_clean, data, max_pages, max_page_points)


def _pdf_clean(data: bytes, max_pages: int, max_page_points: float) -> CleanPdf:
    pages = _pdf_check(data, max_pages, max_page_points)
    content = _rewrite(data)
    # The rewritten file must still be a readable PDF with the same pages.
    if _pdf_check(content, max_pages, max_page_points) != pages:
        raise PdfError("PDF 重写后页数不一致")
    return CleanPdf(pages=pages, content=content)


def _pdf_check(data: bytes, max_pages: int, max_page_points: float) -> int:
    pdf = _open(data)
    try:
        # -1 means no security handler; anything else is an encrypted file (even with an empty password).
        if pdfium_c.FPDF_GetSecurityHandlerRevision(pdf.raw) != -1:
            raise PdfEncrypted("PDF 已加密")
        pages = len(pdf)
        if pages < 1:
            raise PdfEmpty("PDF 没有页面")
        if pages > max_pages:
            raise PdfTooManyPages(f"PDF 有 {pages} 页", pages=pages)
        for index in range(pages):
            try:
                page = pdf[index]  # loading a page parses its whole content: bounded by the child's limits
            except Exception as exc:  # noqa: BLE001
                raise PdfError(f"PDF 第 {index + 1} 页无法读取：{exc!r}") from None
            try:
                width, height = page.get_size()
            finally:
                page.close()
            if not (width > 0 and height > 0):
                raise PdfError(f"PDF 第 {index + 1} 页尺寸无效")
            if width * height > max_page_points:
                raise PdfPageTooLarge(f"PDF 第 {index + 1} 页尺寸过大")
        return pages
    finally:
        pdf.close()


def _inherited(page: pikepdf.Dictionary, key: str):
    node = page
    for _depth in range(64):
        if key in node:
            return node[key]
        node = node.get("/Parent")
        if not isinstance(node, pikepdf.Dictionary):
            return None
    return None


def _clean_resources(resources, seen: set) -> None:
    """Strip metadata and attachments from the page's images and forms, recursively (each object once)."""
    if not isinstance(resources, pikepdf.Dictionary):
        return
    xobjects = resources.get("/XObject")
    if not isinstance(xobjects, pikepdf.Dictionary):
        return
    for _name, xobject in xobjects.items():
        if not isinstance(xobject, pikepdf.Stream):
            continue
        key = xobject.objgen
        if key != (0, 0):
            if key in seen:
                continue
            seen.add(key)
        for dropped in _RESOURCE_KEYS_DROPPED:
            if dropped in xobject:
                del xobject[dropped]
        if xobject.get("/Subtype") == pikepdf.Name.Form:
            _clean_resources(xobject.get("/Resources"), seen)


def _rewrite(data: bytes) -> bytes:
    try:
        with pikepdf.open(io.BytesIO(data)) as source:
            clean = pikepdf.new()
            seen: set = set()
            for page in source.pages:
                obj = page.obj
                for key in _INHERITABLE:
                    if key not in obj:
                        value = _inherited(obj, key)
                        if value is not None:
                            obj[key] = value
                for key in _PAGE_KEYS_DROPPED:
                    if key in obj:
                        del obj[key]
                _clean_resources(obj.get("/Resources"), seen)
                clean.pages.append(page)
            out = io.BytesIO()
            clean.save(out, min_version=source.pdf_version, fix_metadata_version=False, deterministic_id=True)
            return out.getvalue()
    except pikepdf.PasswordError:
        raise PdfEncrypted("PDF 已加密") from None
    except pikepdf.PdfError as exc:
        raise PdfError(f"PDF 无法重写：{exc}") from None


# --- OCR: text layer and rendering ------------------------------------------------------------------------------


def text_layer_lines(data: bytes, min_chars: int = 20) -> list[TextLine]:
    """Lines of the first page's text layer with their boxes (top-left origin, 72 dpi units scaled to 300 dpi).

    Characters are grouped into runs that end at a line break or a wide horizontal gap (a table cell border), so
    that a label and its value become separate lines as they would from OCR.  Empty when there is no text layer.
    """
    return _isolated(_text_layer_lines, data, min_chars)


def _text_layer_lines(data: bytes, min_chars: int) -> list[TextLine]:
    pdf = _open(data)
    try:
        if len(pdf) == 0:
            return []
        page = pdf[0]
        height = page.get_height()
        scale = RENDER_DPI / 72
        textpage = page.get_textpage()
        count = textpage.count_chars()
        lines: list[TextLine] = []
        run: list[tuple[str, tuple[float, float, float, float]]] = []

        def flush() -> None:
            text = unicodedata.normalize("NFKC", "".join(ch for ch, _ in run)).strip()
            if text:
                x0 = min(b[0] for _, b in run) * scale
                x1 = max(b[2] for _, b in run) * scale
                y0 = (height - max(b[3] for _, b in run)) * scale
                y1 = (height - min(b[1] for _, b in run)) * scale
                box = ((x0, y0), (x1, y0), (x1, y1), (x0, y1))
                lines.append(TextLine(text=text, confidence=1.0, box=box, engine=PDF_ENGINE))
            run.clear()

        for index in range(count):
            ch = textpage.get_text_range(index, 1)
            if ch in ("\r", "\n", ""):
                flush()
                continue
            box = textpage.get_charbox(index)
            if run:
                prev = run[-1][1]
                char_h = max(prev[3] - prev[1], box[3] - box[1], 1.0)
                same_line = abs((box[1] + box[3]) / 2 - (prev[1] + prev[3]) / 2) < char_h * 0.6
                gap = box[0] - prev[2]
                if not same_line or gap > char_h * 1.5:
                    flush()
            if ch.isspace() and not run:
                continue
            run.append((ch, box))
        flush()
        total = sum(len(line.text) for line in lines)
        return lines if total >= min_chars else []
    finally:
        pdf.close()


def render_first_page(data: bytes, dpi: int = RENDER_DPI) -> Image.Image:
    """Page 1 as an RGB image at `dpi`, its longest side at most MAX_RENDER_SIDE pixels."""
    return _isolated(_render_first_page, data, dpi, limits=Limits(memory_mb=RENDER_MEMORY_MB))


def _render_first_page(data: bytes, dpi: int) -> Image.Image:
    pdf = _open(data)
    try:
        if len(pdf) == 0:
            raise PdfEmpty("PDF 没有页面")
        page = pdf[0]
        scale = dpi / 72
        longest = max(page.get_width(), page.get_height()) * scale
        if longest > MAX_RENDER_SIDE:
            scale *= MAX_RENDER_SIDE / longest
        return page.render(scale=scale).to_pil().convert("RGB")
    finally:
        pdf.close()
