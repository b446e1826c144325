"""`rotate_keys`: re-encrypts and rehashes under new keys, resumes, and lets the old keys be retired."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from claims.checks.models import DocumentReading, ReadingStatus
from claims.crypto import keys_reset
from claims.intake.applicant import claim_for_applicant
from claims.key_rotation import progress_path, rotate_keys
from claims.models import AuditLog, Claim
from claims.review.selectors import claim_search_q
from tests.factories import submit_claim

pytestmark = pytest.mark.django_db

NEW_HASH = "n" * 64


@pytest.fixture
def keys(settings):
    yield settings
    keys_reset()


def _raw_id_token(claim) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number FROM claims_claim WHERE id = %s", [claim.pk])
        return cursor.fetchone()[0]


def _raw_reading_token(reading) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT sealed_fields FROM claims_documentreading WHERE id = %s", [reading.pk])
        return cursor.fetchone()[0]


def _id_card_reading(claim) -> DocumentReading:
    document = claim.documents.get(kind="id_card_front", is_current=True)
    return DocumentReading.objects.create(
        document=document,
        kind=document.kind,
        file_sha256=document.stored_sha256,
        status=ReadingStatus.DONE,
        fields={"id_number": {"value": claim.id_number, "confident": True}},
    )


def test_rotation_retires_the_old_keys(keys, program):
    claims = [submit_claim(program) for _ in range(3)]
    plain = {c.pk: (c.id_number, c.phone, c.bank_account) for c in claims}
    readings = [_id_card_reading(c) for c in claims]
    old_fernet, old_hash = list(keys.PII_ENCRYPTION_KEYS), list(keys.PII_HASH_KEYS)
    new_fernet = Fernet.generate_key().decode()
    keys.PII_ENCRYPTION_KEYS = [new_fernet, *old_fernet]
    keys.PII_HASH_KEYS = [NEW_HASH, *old_hash]
    keys_reset()
    # During rotation lookups still work by the old hashes.
    c0 = claims[0]
    assert claim_for_applicant(c0.claim_number, c0.id_number).pk == c0.pk
    # An interrupted run (one batch of one row) resumes from its marker.
    rotate_keys(batch_size=1, stop_after=1)
    assert progress_path().exists()
    call_command("rotate_keys", "--batch-size", "1")
    assert not progress_path().exists()
    assert AuditLog.objects.filter(action="keys_rotated").count() == 1
    # Retire the old keys: everything still decrypts and every lookup still finds its claim.
    keys.PII_ENCRYPTION_KEYS = [new_fernet]
    keys.PII_HASH_KEYS = [NEW_HASH]
    keys_reset()
    for claim in Claim.objects.all():
        assert (claim.id_number, claim.phone, claim.bank_account) == plain[claim.pk]
        Fernet(new_fernet.encode()).decrypt(_raw_id_token(claim).encode())
        assert claim_for_applicant(claim.claim_number, claim.id_number).pk == claim.pk
        assert Claim.objects.filter(claim_search_q(claim.phone), pk=claim.pk).exists()
        assert Claim.objects.filter(claim_search_q(claim.bank_account), pk=claim.pk).exists()
    # The OCR readings' sealed fields were re-encrypted too.
    for reading in readings:
        Fernet(new_fernet.encode()).decrypt(_raw_reading_token(reading).encode())
        fresh = DocumentReading.objects.get(pk=reading.pk)
        assert fresh.fields["id_number"]["value"] == plain[reading.document.claim_id][0]
