"""Cross-document checks: the applicant against the ID card's front and the licence's owner."""

from __future__ import annotations

import pytest

from claims.checks.models import DocumentReading, ReadingStatus
from claims.checks.ocr_checks import ocr_checks
from tests.factories import make_id_number, make_program, submit_claim

pytestmark = pytest.mark.django_db


def _read(claim, kind: str, fields: dict) -> None:
    document = claim.documents.get(kind=kind, is_current=True)
    DocumentReading.objects.update_or_create(
        document=document,
        defaults={
            "kind": kind,
            "file_sha256": document.stored_sha256,
            "status": ReadingStatus.DONE,
            "engines": ["rapidocr"],
            "fields": {name: {"value": value, "confident": ok} for name, (value, ok) in fields.items()},
        },
    )


@pytest.fixture
def claim():
    return submit_claim(make_program("cross-doc-car"))


def _results(claim) -> dict[str, dict]:
    return {c["code"]: c for c in ocr_checks(claim)}


def test_id_card_and_licence_agreeing_pass(claim) -> None:
    _read(
        claim, "id_card_front", {"name": (claim.applicant_name, True), "id_number": (claim.id_number, True)}
    )
    _read(claim, "vehicle_license", {"owner": (claim.applicant_name, True), "vin": (claim.vin, True)})
    results = _results(claim)
    assert results["buyer_matches_id_card"]["result"] == "pass"
    assert results["license_owner_matches"]["result"] == "pass"
    assert claim.id_number not in results["buyer_matches_id_card"]["detail"]  # masked


def test_another_person_fails(claim) -> None:
    other = make_id_number(seq=777)
    _read(claim, "id_card_front", {"name": ("李四", True), "id_number": (other, True)})
    _read(claim, "vehicle_license", {"owner": ("李四", True)})
    results = _results(claim)
    assert results["buyer_matches_id_card"]["result"] == "fail"
    assert "李四" in results["buyer_matches_id_card"]["detail"]
    assert results["license_owner_matches"]["result"] == "fail"


def test_unsure_readings_are_unknown_never_fail(claim) -> None:
    _read(claim, "id_card_front", {"name": ("李四", False), "id_number": (claim.id_number, True)})
    _read(claim, "vehicle_license", {"owner": ("李四", False)})
    results = _results(claim)
    assert results["buyer_matches_id_card"]["result"] == "unknown"
    assert results["license_owner_matches"]["result"] == "unknown"


def test_pending_readings_are_unknown(claim) -> None:
    results = _results(claim)
    assert results["buyer_matches_id_card"]["result"] == "unknown"
    assert results["license_owner_matches"]["result"] == "unknown"
