"""PDFs: the text layer when there is one (pypdfium2, NFKC-normalised), otherwise page 1 rendered for OCR."""

from __future__ import annotations

import threading
import unicodedata

from PIL import Image

from .engines import TextLine

__all__ = ["PDF_ENGINE", "PdfError", "is_pdf", "render_first_page", "text_layer_lines"]

PDF_ENGINE = "pdf-text"
RENDER_DPI = 300
MAX_RENDER_SIDE = 3508  # A4 at 300 dpi


class PdfError(ValueError):
    """The file is not a readable PDF."""


# PDFium is not thread-safe: every use in the process (the claims app's too) holds this one lock.
pdfium_lock = threading.RLock()


def is_pdf(data: bytes) -> bool:
    return data[:1024].lstrip().startswith(b"%PDF") or b"%PDF-" in data[:1024]


def _open(data: bytes):
    import pypdfium2 as pdfium

    try:
        return pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise PdfError(f"PDF 无法打开：{exc}") from exc


def text_layer_lines(data: bytes, min_chars: int = 20) -> list[TextLine]:
    """Lines of the first page's text layer with their boxes (top-left origin, 72 dpi units scaled to 300 dpi).

    Characters are grouped into runs that end at a line break or a wide horizontal gap (a table cell border), so
    that a label and its value become separate lines as they would from OCR.  Empty when there is no text layer.
    """
    with pdfium_lock:
        return _text_layer_lines(data, min_chars)


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
    with pdfium_lock:
        return _render_first_page(data, dpi)


def _render_first_page(data: bytes, dpi: int) -> Image.Image:
    pdf = _open(data)
    try:
        if len(pdf) == 0:
            raise PdfError("PDF 没有页面")
        page = pdf[0]
        scale = dpi / 72
        longest = max(page.get_width(), page.get_height()) * scale
        if longest > MAX_RENDER_SIDE:
            scale *= MAX_RENDER_SIDE / longest
        return page.render(scale=scale).to_pil().convert("RGB")
    finally:
        pdf.close()
