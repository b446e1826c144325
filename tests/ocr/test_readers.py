"""Readers on generated documents with RapidOCR: one document per invoice layout (OCR time stays modest).

The held-out layout is deliberately absent: it is measured only by ``bench/ocr_accuracy.py``.
"""

import pytest

from ocr.reading import read_document
from tests.docgen import HELD_OUT, LAYOUTS

CRITICAL = ("invoice_number", "invoice_date", "buyer_name", "buyer_id_number", "vin", "amount_figures")


def _read(doc, engines=("rapidocr",)):
    data, content_type = doc.to_bytes("JPEG" if doc.condition != "clean" else "PNG")
    return read_document(doc.kind, data, content_type, engines=list(engines))


def _assert_no_confident_wrong(result, truth) -> None:
    for name, expected in truth.items():
        reading = result.fields.get(name)
        if reading is not None and reading.confident:
            assert reading.value == expected, name


@pytest.mark.parametrize(
    ("layout", "condition", "seed"),
    [("cell", "clean", 41), ("grid2015", "photo", 42), ("digital2024", "clean", 43)],
)
def test_invoice_layouts(rapidocr, synthetic, layout: str, condition: str, seed: int) -> None:
    assert layout in LAYOUTS and layout != HELD_OUT
    doc = synthetic("invoice", seed, condition, layout=layout)
    result = _read(doc)
    assert result.status == "done" and result.engines == ["rapidocr"]
    _assert_no_confident_wrong(result, doc.truth)
    for name in CRITICAL:
        assert result.value(name) == doc.truth[name], name
    assert result.fields["amount_figures"].confident
    if layout == "digital2024":
        assert len(result.value("invoice_number")) == 20 and result.value("invoice_code") is None


@pytest.mark.parametrize("kind", ["vehicle_license", "id_card_front", "pos_slip"])
def test_other_documents(rapidocr, synthetic, kind: str) -> None:
    doc = synthetic(kind, 15, "clean")
    result = _read(doc)
    _assert_no_confident_wrong(result, doc.truth)
    for name, expected in doc.truth.items():
        assert result.value(name) == expected, name
