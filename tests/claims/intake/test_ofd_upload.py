"""A fully digital invoice may be uploaded as its OFD file; hostile or misplaced OFD files are refused."""

from __future__ import annotations

import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims.errors import FieldError
from claims.intake.documents import document_inspect, document_store
from ocr.reading import read_document
from tests.docgen import invoices
from tests.docgen import ofd as make_ofd


@pytest.fixture(scope="module")
def truth() -> dict:
    return invoices.invoice_truth(random.Random(11), "digital2024")


def _upload(data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile("fapiao.ofd", data, content_type="application/octet-stream")


def test_ofd_invoice_accepted_stored_and_read(truth, settings, tmp_path) -> None:
    settings.DOCUMENTS_DIR = tmp_path
    data = make_ofd.invoice_ofd(truth)
    doc = document_inspect(_upload(data), "invoice")
    assert (doc.content_type, doc.extension, doc.pages, doc.content) == ("application/ofd", "ofd", 1, data)
    name, created = document_store(doc)
    assert created and name.endswith(".ofd")
    result = read_document("invoice", (tmp_path / name).read_bytes(), doc.content_type)
    assert result.value("amount_figures") == truth["amount_figures"]
    assert result.fields["amount_figures"].confident


@pytest.mark.parametrize("kind", ["id_card_front", "vehicle_license", "pos_slip"])
def test_ofd_only_for_the_invoice(truth, kind: str) -> None:
    with pytest.raises(FieldError) as exc:
        document_inspect(_upload(make_ofd.invoice_ofd(truth)), kind)
    assert exc.value.code == "invalid_file"


@pytest.mark.parametrize("make", [make_ofd.zip_bomb, make_ofd.too_many_entries, make_ofd.billion_laughs])
def test_hostile_ofd_refused(truth, make) -> None:
    with pytest.raises(FieldError) as exc:
        document_inspect(_upload(make(truth)), "invoice")
    assert exc.value.code == "invalid_file"
    assert "OFD" in str(exc.value.message)
