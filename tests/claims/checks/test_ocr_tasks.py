"""Tasks, stored readings, checks and the staff summary against the claims models."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from claims.checks.models import DocumentReading
from claims.checks.ocr_checks import ocr_checks
from claims.checks.selectors import claim_ocr_summary
from claims.checks.tasks import enqueue_claim_ocr, ocr_read_document
from tests.factories import document_files, make_program, submit_claim


@pytest.fixture
def eager():
    app = ocr_read_document.app
    previous = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    yield
    app.conf.task_always_eager, app.conf.task_eager_propagates = previous


def _upload(kind: str, image) -> SimpleUploadedFile:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG")
    return SimpleUploadedFile(f"{kind}.png", buf.getvalue(), content_type="image/png")


def _claim_for(invoice_doc, license_doc, **overrides):
    program = make_program(dealers=[])
    truth = invoice_doc.truth
    files = document_files()
    files["invoice"] = _upload("invoice", invoice_doc.image)
    files["vehicle_license"] = _upload("vehicle_license", license_doc.image)
    fields = {
        "applicant_name": truth["buyer_name"],
        "account_holder": truth["buyer_name"],
        "id_number": truth["buyer_id_number"],
        "vin": truth["vin"],
        "invoice_number": truth["invoice_number"],
        "invoice_code": truth["invoice_code"],
        "invoice_amount": f"{truth['amount_figures']:.2f}",
        "dealer_credit_code": truth["seller_credit_code"],
    }
    fields.update(overrides)
    return submit_claim(program, files=files, **fields)


def _by_code(results):
    return {r["code"]: r for r in results}


@pytest.mark.django_db
def test_without_engine_everything_is_unknown(settings, eager, synthetic) -> None:
    settings.OCR_ENGINES = []
    invoice = synthetic("invoice", 31)
    license_doc = synthetic("vehicle_license", 31, overrides={"vin": invoice.truth["vin"]})
    claim = _claim_for(invoice, license_doc)
    enqueue_claim_ocr(claim.pk)
    readings = DocumentReading.objects.filter(document__claim=claim)
    assert readings.count() == 5
    assert {r.status for r in readings} == {"engine_missing"}
    results = _by_code(ocr_checks(claim))
    assert {r["result"] for r in results.values()} == {"unknown"}
    # No engine configured: said as such, without an empty "missing" list.
    assert results["invoice_amount_matches_ocr"]["detail"] == "未配置识别引擎，发票需人工核对"
    summary = claim_ocr_summary(claim)
    assert summary["invoice"]["status"] == "engine_missing"
    assert summary["invoice"]["detail"] == "未配置识别引擎" and summary["invoice"]["engines_missing"] == []

    # A duplicated or redelivered message finds the reading finished: it is not read again (a backlog of
    # duplicates would otherwise keep flipping finished readings back to pending). Re-queuing on purpose does.
    document = claim.documents.get(kind="invoice", is_current=True)
    reading = DocumentReading.objects.get(document=document)
    refreshed = {c.code: c.updated_at for c in claim.checks.all()}
    assert refreshed, "the last reading to finish refreshed the checks"
    assert ocr_read_document.apply(args=[document.pk]).get() == "already_done"
    assert DocumentReading.objects.get(pk=reading.pk).attempts == reading.attempts
    # ...and, the checks being newer than the reading, costs no refresh; when the worker that finished the
    # reading died before refreshing (checks older than the reading), the duplicate refreshes them.
    assert {c.code: c.updated_at for c in claim.checks.all()} == refreshed
    claim.checks.update(updated_at=reading.finished_at - dt.timedelta(seconds=1))
    assert ocr_read_document.apply(args=[document.pk]).get() == "already_done"
    assert all(c.updated_at > reading.finished_at for c in claim.checks.all())
    enqueue_claim_ocr(claim.pk)
    assert DocumentReading.objects.get(pk=reading.pk).attempts == reading.attempts + 1


@pytest.mark.django_db
def test_engines_configured_but_not_installed_are_named(settings, eager, synthetic) -> None:
    settings.OCR_ENGINES = ["no-such-engine"]
    invoice = synthetic("invoice", 32)
    license_doc = synthetic("vehicle_license", 32, overrides={"vin": invoice.truth["vin"]})
    claim = _claim_for(invoice, license_doc)
    enqueue_claim_ocr(claim.pk)
    detail = "未安装可用的识别引擎（缺少：no-such-engine）"
    assert _by_code(ocr_checks(claim))["invoice_amount_matches_ocr"]["detail"] == f"{detail}，发票需人工核对"
    summary = claim_ocr_summary(claim)["invoice"]
    assert summary["engines_missing"] == ["no-such-engine"] and summary["detail"] == detail


@pytest.mark.django_db
def test_pending_reading_gives_null_summary_and_unknown_checks(settings, synthetic) -> None:
    invoice = synthetic("invoice", 31)
    license_doc = synthetic("vehicle_license", 31, overrides={"vin": invoice.truth["vin"]})
    claim = _claim_for(invoice, license_doc)
    summary = claim_ocr_summary(claim)
    assert summary["invoice"] is None
    assert _by_code(ocr_checks(claim))["vin_matches_invoice"]["result"] == "unknown"


@pytest.mark.django_db
def test_read_claim_with_rapidocr(settings, eager, rapidocr, synthetic) -> None:
    settings.OCR_ENGINES = ["rapidocr"]
    invoice = synthetic("invoice", 32)
    license_doc = synthetic("vehicle_license", 32, overrides={"vin": invoice.truth["vin"]})
    claim = _claim_for(invoice, license_doc)
    enqueue_claim_ocr(claim.pk)
    results = _by_code(ocr_checks(claim))
    amount = invoice.truth["amount_figures"]
    assert results["invoice_amount_matches_ocr"]["result"] == "pass"
    assert f"¥{amount:,.2f}" in results["invoice_amount_matches_ocr"]["detail"]
    assert results["invoice_amount_words_match"]["result"] == "pass"
    assert results["vin_matches_invoice"]["result"] == "pass"
    assert results["vin_matches_license"]["result"] == "pass"
    assert results["buyer_matches_invoice"]["result"] == "pass"
    # the stored checks were refreshed once every document was read
    stored = {c.code: c.result for c in claim.checks.all()}
    assert stored.get("invoice_amount_matches_ocr") == "pass"
    summary = claim_ocr_summary(claim)
    assert summary["invoice"]["vin"]["value"] == invoice.truth["vin"]

    # Idempotent: running the task again does not read the file again.
    document = claim.documents.get(kind="invoice", is_current=True)
    assert ocr_read_document.apply(args=[document.pk]).get() == "already_done"

    # A declared amount that differs from the confident reading fails, with a readable detail.
    claim.invoice_amount = amount + Decimal("1000.00")
    claim.save(update_fields=["invoice_amount"])
    result = _by_code(ocr_checks(claim))["invoice_amount_matches_ocr"]
    assert result["result"] == "fail" and "不一致" in result["detail"]


@pytest.mark.django_db
def test_tesseract_words_check_is_never_fail(settings, synthetic) -> None:
    invoice = synthetic("invoice", 33)
    license_doc = synthetic("vehicle_license", 33, overrides={"vin": invoice.truth["vin"]})
    claim = _claim_for(invoice, license_doc)
    document = claim.documents.get(kind="invoice", is_current=True)
    DocumentReading.objects.create(
        document=document,
        kind="invoice",
        file_sha256=document.stored_sha256,
        status="done",
        engines=["tesseract"],
        fields={
            "amount_figures": {"value": "158000.00", "confidence": 0.99, "confident": True},
            "amount_words": {"value": "150000.00", "confidence": 0.99, "confident": True},
        },
    )
    assert _by_code(ocr_checks(claim))["invoice_amount_words_match"]["result"] == "unknown"
