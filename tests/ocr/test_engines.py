"""Engine selection: a missing engine is reported, never raised."""

import pytest

from ocr.engines import resolve_engines
from ocr.reading import read_document
from tests.docgen import generate


@pytest.fixture(scope="module")
def small_invoice() -> bytes:
    data, _ = generate("id_card_back", 3).to_bytes()
    return data


def test_no_engine_configured(settings, small_invoice) -> None:
    settings.OCR_ENGINES = []
    result = read_document("invoice", small_invoice, "image/png")
    assert result.status == "engine_missing"
    assert result.engines == []
    assert result.fields == {}


def test_unknown_engine_is_reported_missing(small_invoice) -> None:
    engines, missing = resolve_engines(["no-such-engine"])
    assert engines == [] and missing == ["no-such-engine"]
    result = read_document("invoice", small_invoice, "image/png", engines=["no-such-engine"])
    assert result.status == "engine_missing"
    assert result.engines_missing == ["no-such-engine"]


def test_bad_image_is_failed_not_raised() -> None:
    result = read_document("invoice", b"not an image", "image/png", engines=["no-such-engine"])
    assert result.status == "failed"
    assert "无法识别" in result.error


def test_unknown_kind_raises() -> None:
    with pytest.raises(ValueError):
        read_document("passport", b"", "image/png")
