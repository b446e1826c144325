"""OCR readings: the personal fields read from documents are sealed at rest like the claim's own."""

from __future__ import annotations

import importlib
import json

import pytest
from django.apps import apps
from django.db import connection

from claims.checks.models import DocumentReading, ReadingStatus
from claims.checks.ocr_checks import ocr_checks
from conftest import token_client
from tests.factories import submit_claim

pytestmark = pytest.mark.django_db

seal_migration = importlib.import_module("claims.migrations.0009_seal_reading_personal_fields")


def _read(claim, kind: str, values: dict[str, str]) -> DocumentReading:
    document = claim.documents.get(kind=kind, is_current=True)
    return DocumentReading.objects.create(
        document=document,
        kind=kind,
        file_sha256=document.stored_sha256,
        status=ReadingStatus.DONE,
        engines=["rapidocr"],
        fields={
            name: {"value": value, "confidence": 0.99, "confident": True} for name, value in values.items()
        },
    )


def _raw(reading) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT open_fields, sealed_fields FROM claims_documentreading WHERE id = %s", [reading.pk]
        )
        open_part, sealed = cursor.fetchone()
    return f"{open_part} {sealed}"


def test_raw_columns_hold_no_personal_data_and_every_reader_sees_it(program, reviewer):
    claim = submit_claim(program)
    id_card = _read(claim, "id_card_front", {"name": claim.applicant_name, "id_number": claim.id_number})
    invoice = _read(
        claim,
        "invoice",
        {"buyer_name": claim.applicant_name, "buyer_id_number": claim.id_number, "vin": claim.vin},
    )
    for reading in (id_card, invoice):
        raw = _raw(reading)
        assert claim.id_number not in raw and claim.applicant_name not in raw
        assert json.dumps(claim.applicant_name)[1:-1] not in raw  # nor as a JSON escape
    # Non-personal fields stay readable (and queryable) in the open column.
    assert claim.vin in _raw(invoice)
    assert DocumentReading.objects.filter(open_fields__vin__value=claim.vin).count() == 1
    # The model, the checks and the staff API read the decrypted values.
    assert DocumentReading.objects.get(pk=id_card.pk).fields["id_number"]["value"] == claim.id_number
    results = {c["code"]: c for c in ocr_checks(claim)}
    assert results["buyer_matches_id_card"]["result"] == "pass"
    ocr = token_client(reviewer).get(f"/api/v1/staff/claims/{claim.claim_number}/").json()["ocr"]
    assert ocr["id_card_front"]["id_number"]["value"] == claim.id_number
    assert ocr["invoice"]["vin"]["value"] == claim.vin


def test_the_data_migration_seals_existing_rows(program):
    claim = submit_claim(program)
    reading = _read(claim, "id_card_front", {})
    plain = {
        "name": {"value": claim.applicant_name, "confident": True},
        "id_number": {"value": claim.id_number, "confident": True},
    }
    DocumentReading.objects.filter(pk=reading.pk).update(open_fields=plain, sealed_fields="")
    assert claim.id_number in _raw(reading)
    seal_migration.seal(apps, None)
    seal_migration.seal(apps, None)  # a second run changes nothing
    assert claim.id_number not in _raw(reading)
    assert DocumentReading.objects.get(pk=reading.pk).fields == plain
