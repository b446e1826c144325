"""Readers on generated documents with RapidOCR (a handful of images: OCR time stays modest)."""

import pytest

from ocr.reading import read_document


def _read(doc, engines=("rapidocr",)):
    data, content_type = doc.to_bytes("JPEG" if doc.condition != "clean" else "PNG")
    return read_document(doc.kind, data, content_type, engines=list(engines))


def _assert_no_confident_wrong(result, truth) -> None:
    for name, expected in truth.items():
        reading = result.fields.get(name)
        if reading is not None and reading.confident:
            assert reading.value == expected, name


@pytest.mark.parametrize(("seed", "condition"), [(11, "clean"), (12, "degraded"), (13, "rotation")])
def test_invoice(rapidocr, synthetic, seed: int, condition: str) -> None:
    doc = synthetic("invoice", seed, condition)
    result = _read(doc)
    assert result.status == "done" and result.engines == ["rapidocr"]
    _assert_no_confident_wrong(result, doc.truth)
    for name in ("invoice_number", "buyer_id_number", "vin", "amount_figures"):
        assert result.value(name) == doc.truth[name], name
    amount = result.fields["amount_figures"]
    assert amount.confident or amount.value is None


def test_digital_invoice(rapidocr, synthetic) -> None:
    doc = synthetic("invoice", 14, "clean", digital=True)
    result = _read(doc)
    assert len(result.value("invoice_number")) == 20
    assert result.value("invoice_code") is None
    _assert_no_confident_wrong(result, doc.truth)


@pytest.mark.parametrize("kind", ["vehicle_license", "id_card_front", "pos_slip"])
def test_other_documents(rapidocr, synthetic, kind: str) -> None:
    doc = synthetic(kind, 15, "clean")
    result = _read(doc)
    _assert_no_confident_wrong(result, doc.truth)
    for name, expected in doc.truth.items():
        assert result.value(name) == expected, name
