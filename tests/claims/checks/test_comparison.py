"""One comparison of a reading with a declared value: the OCR checks and the review page's highlight agree."""

from __future__ import annotations

from decimal import Decimal

import pytest

from claims.checks.models import DocumentReading, ReadingStatus
from claims.checks.ocr_checks import ocr_checks
from claims.review.selectors import claim_ocr, ocr_comparison
from claims.vocabulary import values_agree
from tests.factories import make_program, submit_claim

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("name", "declared", "read", "agree"),
    [
        ("invoice_amount", Decimal("158000.00"), "158000", True),
        ("invoice_amount", Decimal("158000.00"), "¥158,000.00", True),
        ("invoice_amount", Decimal("158000.00"), "158000.01", False),
        ("vin", "LSVAB1230PA000001", "lsvab1230pa 000001", True),
        ("applicant_name", "张三", " 张三 ", True),
        ("applicant_name", "张三", "李四", False),
        ("vin", "LSVAB1230PA000001", None, None),
    ],
)
def test_values_agree_normalises_per_field(name, declared, read, agree):
    assert values_agree(name, declared, read) is agree


def _read(claim, kind: str, fields: dict) -> None:
    document = claim.documents.get(kind=kind, is_current=True)
    DocumentReading.objects.update_or_create(
        document=document,
        defaults={
            "kind": kind,
            "file_sha256": document.stored_sha256,
            "status": ReadingStatus.DONE,
            "engines": ["rapidocr", "tesseract"],
            "fields": {name: {"value": value, "confident": True} for name, value in fields.items()},
        },
    )


@pytest.mark.parametrize("agreeing", [True, False])
def test_check_result_and_review_highlight_agree(agreeing):
    claim = submit_claim(make_program("compare-car"))
    vin = (
        claim.vin.lower()[:8] + " " + claim.vin.lower()[8:]
        if agreeing
        else claim.vin[:-1] + ("1" if claim.vin.endswith("0") else "0")
    )
    amount = f"{claim.invoice_amount:,.0f}" if agreeing else str(claim.invoice_amount + 1)
    name = f" {claim.applicant_name} " if agreeing else "李四"
    _read(
        claim,
        "invoice",
        {
            "vin": vin,
            "amount_figures": amount.replace(",", ""),
            "amount_words": amount.replace(",", ""),
            "buyer_name": name,
            "buyer_id_number": claim.id_number,
        },
    )
    _read(claim, "vehicle_license", {"vin": vin})
    checks = {c["code"]: c["result"] for c in ocr_checks(claim)}
    highlight = {
        (row["kind"], row["declared_field"]): row["match"] for row in ocr_comparison(claim, claim_ocr(claim))
    }
    expected = "pass" if agreeing else "fail"
    assert checks["vin_matches_invoice"] == checks["vin_matches_license"] == expected
    assert checks["invoice_amount_matches_ocr"] == expected
    assert checks["buyer_matches_invoice"] == expected
    assert highlight[("invoice", "vin")] is agreeing
    assert highlight[("vehicle_license", "vin")] is agreeing
    assert highlight[("invoice", "invoice_amount")] is agreeing
    assert highlight[("invoice", "applicant_name")] is agreeing
