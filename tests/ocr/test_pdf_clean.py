"""Uploaded PDFs are checked under limits and stored without active content; hostile PDFs are refused."""

import importlib.util
from pathlib import Path

import pytest

from ocr import pdf

_spec = importlib.util.spec_from_file_location(
    "hostile_documents", Path(__file__).resolve().parents[2] / "bench" / "hostile_documents.py"
)
hostile = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(hostile)

MAX_POINTS = 40_000_000 * (72 / 150) ** 2


def test_active_content_and_metadata_are_removed_and_the_text_stays():
    clean = pdf.pdf_clean(hostile.active_content_pdf(), 5, MAX_POINTS)
    assert clean.pages == 1
    for marker in (
        b"JavaScript",
        b"/JS",
        b"OpenAction",
        b"EmbeddedFile",
        b"/Metadata",
        b"/Annots",
        b"/AA",
        b"MZ",
    ):
        assert marker not in clean.content, marker
    assert [line.text for line in pdf.text_layer_lines(clean.content, min_chars=1)] == ["Invoice 12345678"]


def test_a_content_bomb_is_refused_within_the_limits():
    with pytest.raises(pdf.PdfTooComplex):
        pdf.pdf_clean(hostile.flate_bomb_pdf(300_000), 5, MAX_POINTS)


def test_too_many_pages_and_huge_pages_are_refused():
    with pytest.raises(pdf.PdfTooManyPages) as info:
        pdf.pdf_clean(hostile.many_pages_pdf(50), 5, MAX_POINTS)
    assert info.value.pages == 50
    with pytest.raises(pdf.PdfPageTooLarge):
        pdf.pdf_clean(hostile.huge_page_pdf(), 5, MAX_POINTS)


def test_garbage_is_a_pdf_error():
    with pytest.raises(pdf.PdfError):
        pdf.pdf_clean(b"%PDF-1.7\nnot really", 5, MAX_POINTS)


def test_rendering_a_bomb_in_the_worker_is_refused():
    with pytest.raises(pdf.PdfTooComplex):
        pdf.render_first_page(hostile.flate_bomb_pdf(300_000))
