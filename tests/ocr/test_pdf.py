"""PDFs: the text layer is read directly (NFKC), a scanned PDF is rendered and OCR'd."""

import pytest

from ocr.reading import read_document


@pytest.mark.parametrize("kangxi", [False, True])
def test_invoice_text_layer(synthetic, kangxi: bool) -> None:
    doc = synthetic("invoice", 21)
    result = read_document(
        "invoice", doc.to_pdf(text_layer=True, kangxi=kangxi), "application/pdf", engines=[]
    )
    assert result.engines == ["pdf-text"]
    assert result.status == "done"
    for name, truth in doc.truth.items():
        assert result.value(name) == truth, name
    assert result.fields["amount_figures"].confident
    assert result.seconds < 5


def test_scanned_pdf_without_engine_reports_missing(synthetic) -> None:
    doc = synthetic("pos_slip", 2)
    result = read_document("pos_slip", doc.to_pdf(text_layer=False), "application/pdf", engines=[])
    assert result.engines == []
    assert result.status == "engine_missing"


def test_scanned_pdf_is_rendered_and_read(synthetic, rapidocr) -> None:
    doc = synthetic("pos_slip", 2)
    result = read_document("pos_slip", doc.to_pdf(text_layer=False), "application/pdf", engines=["rapidocr"])
    assert result.engines == ["rapidocr"]
    assert result.value("amount") == doc.truth["amount"]
