"""A real Celery worker process on the configured broker (Redis in CI): tasks queued after commit arrive and run."""

import io

import pytest
from django.db import transaction

from claims.checks.models import DocumentReading
from claims.models import Claim, ClaimCheck
from claims.payouts.models import Payout
from claims.review.services import claim_approve
from conftest import token_client, wait_for
from ocr.synthetic import generate
from tests.factories import claim_payload, document_files, make_program, make_staff


@pytest.fixture
def worker_ocr_engines() -> str:
    return "rapidocr"


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.worker
def test_ocr_results_and_checks_arrive_from_the_worker(celery_worker_process, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    program = make_program("worker-ocr")
    invoice = generate("invoice", 7, "clean")
    truth = invoice.truth
    files = document_files()
    files["invoice"] = SimpleUploadedFile("invoice.png", _png(invoice.image), content_type="image/png")
    payload = claim_payload(
        program.code,
        applicant_name=truth["buyer_name"],
        account_holder=truth["buyer_name"],
        id_number=truth["buyer_id_number"],
        vin=truth["vin"],
        invoice_number=truth["invoice_number"],
        invoice_code=truth["invoice_code"],
        invoice_amount=f"{truth['amount_figures']:.2f}",
    )
    r = client.post("/api/v1/claims/", {**payload, **files})
    assert r.status_code == 201, r.json()
    claim = Claim.objects.get(claim_number=r.json()["claim_number"])

    def all_read():
        readings = DocumentReading.objects.filter(document__claim=claim)
        return readings.count() == 5 and all(x.is_finished for x in readings)

    wait_for(all_read, timeout=180, interval=1)
    assert DocumentReading.objects.get(document__claim=claim, document__kind="invoice").status == "done"
    amount = wait_for(
        lambda: (
            # The checks computed at submission (before any reading) say "等待…" or "…尚在识别中"; the worker
            # recomputes them once every document is read, just after the last reading is stored.
            ClaimCheck.objects.filter(claim=claim, code="invoice_amount_matches_ocr")
            .exclude(detail__contains="等待")
            .exclude(detail__contains="识别中")
            .first()
        ),
        timeout=60,
    )
    assert amount.result == "pass", amount.detail


@pytest.mark.worker
def test_approval_creates_the_payout_through_the_worker(celery_worker_process):
    program = make_program("worker-pay")
    reviewer = make_staff("worker-reviewer", "reviewer")
    from tests.factories import submit_claim

    claim = submit_claim(program)
    claim_approve(claim.claim_number, actor=reviewer, note="ok")
    payout = wait_for(lambda: Payout.objects.filter(claim=claim).first(), timeout=60)
    assert payout.amount == claim.subsidy_amount
    assert token_client(reviewer)  # the token machinery works beside the worker
    with transaction.atomic():
        assert Payout.objects.filter(claim=claim).count() == 1
