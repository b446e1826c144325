"""OFD invoices: read exactly from their XML; hostile files refused with a clear error."""

import io
import random
import zipfile

import pytest

from ocr import ofd
from ocr.reading import read_document
from tests.docgen import invoices
from tests.docgen import ofd as make_ofd

CONTENT_TYPE = "application/ofd"


@pytest.fixture(scope="module")
def truth() -> dict:
    return invoices.invoice_truth(random.Random(5), "digital2024")


def _assert_exact(result, truth) -> None:
    assert result.engines == ["ofd"], result.error
    for name, reading in result.fields.items():
        expected = truth.get(name)
        assert reading.value == expected, name
        assert reading.confident == (expected is not None), name


@pytest.mark.parametrize(
    "kwargs", [{}, {"tagged": False}, {"structured": False}], ids=["both", "structured", "tagged"]
)
def test_read_exactly(truth, kwargs) -> None:
    _assert_exact(read_document("invoice", make_ofd.invoice_ofd(truth, **kwargs), CONTENT_TYPE), truth)


def test_recognised_without_content_type(truth) -> None:
    _assert_exact(read_document("invoice", make_ofd.invoice_ofd(truth)), truth)


def test_copies_that_disagree_are_not_confident(truth) -> None:
    data = make_ofd.invoice_ofd(truth, tamper={"BuyerName": "李四"})
    result = read_document("invoice", data, CONTENT_TYPE)
    assert not result.fields["buyer_name"].confident
    assert result.fields["vin"].confident


def test_inspect_describes_the_package(truth) -> None:
    doc = ofd.inspect(make_ofd.invoice_ofd(truth))
    assert doc.doc_root == "Doc_0/Document.xml"
    assert doc.pages == ["Doc_0/Pages/Page_0/Content.xml"]
    assert doc.invoice_xml == "Doc_0/Attachs/original_invoice.xml"


def _zip(files: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (make_ofd.zip_bomb, "过大"),
        (make_ofd.too_many_entries, "过多"),
        (make_ofd.billion_laughs, "XML"),
        (lambda t: b"PK\x03\x04 not a zip at all", "zip"),
        (lambda t: _zip({"../../etc/passwd": "x", "OFD.xml": "<OFD/>"}), "路径"),
        (lambda t: _zip({"Doc_0/Document.xml": "<Document/>"}), "OFD.xml"),
        (
            lambda t: _zip(
                {"OFD.xml": '<?xml version="1.0"?><!DOCTYPE x SYSTEM "file:///etc/passwd"><OFD/>'}
            ),
            "XML",
        ),
    ],
    ids=["bomb", "entries", "entities", "not-zip", "traversal", "no-root", "external-dtd"],
)
def test_hostile_files_are_refused(truth, make, message) -> None:
    data = make(truth)
    with pytest.raises(ofd.OfdError) as exc:
        ofd.inspect(data)
    assert message in str(exc.value)
    assert exc.value.code == "invalid_file"
    result = read_document("invoice", data, CONTENT_TYPE)
    assert result.engines == [] and result.error and result.status == "failed"


def test_only_the_invoice_may_be_ofd(truth) -> None:
    result = read_document("id_card_front", make_ofd.invoice_ofd(truth), CONTENT_TYPE)
    assert result.error and not result.fields
