"""A real Celery worker process on the configured broker (Redis in CI): tasks queued after commit arrive and run."""

import io

import pytest
from django.db import transaction

from claims.checks.models import DocumentReading
from claims.models import Claim, ClaimCheck
from claims.payouts.models import Payout
from claims.review.services import claim_approve
from conftest import token_client, wait_for
from tests.docgen import LAYOUTS, generate
from tests.docgen import ofd as make_ofd
from tests.factories import claim_payload, document_files, make_program, make_staff, open_claim


@pytest.fixture
def worker_ocr_engines() -> str:
    return "rapidocr"


def _png(image) -> bytes:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "PNG")
    return buf.getvalue()


@pytest.mark.worker
def test_ocr_results_and_checks_arrive_from_the_worker(celery_worker_process, client):
    """One claim per invoice layout (and one fully digital invoice as its OFD file): the amount check passes."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    program = make_program("worker-ocr")
    invoices = [(layout, generate("invoice", 7, "clean", layout=layout)) for layout in LAYOUTS]
    claims = []
    for layout, invoice in [*invoices, ("ofd", invoice_truth_for_ofd())]:
        truth = invoice.truth
        files = document_files()
        if layout == "ofd":
            files["invoice"] = SimpleUploadedFile("invoice.ofd", make_ofd.invoice_ofd(truth))
        else:
            files["invoice"] = SimpleUploadedFile(
                "invoice.png", _png(invoice.image), content_type="image/png"
            )
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
        assert r.status_code == 201, (layout, r.json())
        claims.append((layout, Claim.objects.get(claim_number=r.json()["claim_number"])))

    for layout, claim in claims:

        def all_read(claim=claim):
            readings = DocumentReading.objects.filter(document__claim=claim)
            return readings.count() == 5 and all(x.is_finished for x in readings)

        wait_for(all_read, timeout=300, interval=1)
        reading = DocumentReading.objects.get(document__claim=claim, document__kind="invoice")
        assert reading.status == "done", layout
        amount = wait_for(
            lambda claim=claim: (
                ClaimCheck.objects.filter(claim=claim, code="invoice_amount_matches_ocr")
                .exclude(detail__contains="等待")
                .exclude(detail__contains="识别中")
                .first()
            ),
            timeout=60,
        )
        assert amount.result == "pass", (layout, amount.detail)


def invoice_truth_for_ofd():
    return generate("invoice", 8, "clean", layout="digital2024")


@pytest.mark.worker
def test_approval_creates_the_payout_through_the_worker(celery_worker_process):
    program = make_program("worker-pay")
    reviewer = make_staff("worker-reviewer", "reviewer")
    from tests.factories import submit_claim

    claim = submit_claim(program)
    open_claim(reviewer, claim)
    claim_approve(claim.claim_number, actor=reviewer, note="ok")
    payout = wait_for(lambda: Payout.objects.filter(claim=claim).first(), timeout=60)
    assert payout.amount == claim.subsidy_amount
    assert token_client(reviewer)  # the token machinery works beside the worker
    with transaction.atomic():
        assert Payout.objects.filter(claim=claim).count() == 1
