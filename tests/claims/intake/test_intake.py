"""POST /api/v1/claims/: every refusal code, reported together, and a refusal writes nothing."""

import datetime as dt
import os
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from claims.models import Claim, ClaimDocument, ClaimEvent, IdempotencyRecord, LedgerEntry
from tests.factories import claim_payload, document_files, make_credit_code, make_program, submit_claim

pytestmark = pytest.mark.django_db


def post(client, payload, files=None, **headers):
    return client.post("/api/v1/claims/", {**payload, **(files or document_files())}, headers=headers)


def stored_files(settings):
    root = settings.DOCUMENTS_DIR
    return sorted(str(p) for p in root.rglob("*") if p.is_file()) if root.exists() else []


def assert_nothing_written(program, settings, claims_before=0):
    program.refresh_from_db()
    assert Claim.objects.count() == claims_before
    assert program.reserved == Decimal("0.00") or claims_before
    assert LedgerEntry.objects.filter(kind="reserve").count() == (
        Claim.objects.filter(status="under_review").count()
    )
    if not claims_before:
        assert stored_files(settings) == []
        assert not ClaimDocument.objects.exists() and not ClaimEvent.objects.exists()


FIELD_REFUSALS = [
    ({"id_number": "141182199001011234"}, "id_number", "invalid_id_number"),
    ({"id_number": "14118219900230123X"}, "id_number", "invalid_id_number"),
    ({"vin": "LSVAB2180E2I00001"}, "vin", "invalid_vin"),
    ({"vin": "LSVAB2180E2100001"}, "vin", "invalid_vin"),
    ({"bank_account": "6217001234"}, "bank_account", "invalid_bank_account"),
    ({"bank_account": "62170012345678901234"}, "bank_account", "invalid_bank_account"),
    ({"phone": "12800138000"}, "phone", "invalid_phone"),
    ({"plate_number": "晋I12345"}, "plate_number", "invalid_plate"),
    ({"invoice_amount": "20000.00"}, "invoice_amount", "below_minimum_amount"),
    ({"invoice_date": "2000-01-01"}, "invoice_date", "purchase_out_of_window"),
    ({"license_issue_date": "2000-01-01"}, "license_issue_date", "purchase_out_of_window"),
    ({"pos_amount": "20000.00"}, "pos_amount", "pos_below_minimum"),
    ({"account_holder": "李四"}, "account_holder", "account_holder_mismatch"),
    ({"fuel_type": "diesel"}, "fuel_type", "invalid_fuel_type"),
    ({"invoice_amount": "abc"}, "invoice_amount", "invalid_amount"),
    ({"invoice_date": "2024-13-01"}, "invoice_date", "invalid_date"),
    ({"applicant_name": None}, "applicant_name", "required"),
]


@pytest.mark.parametrize("overrides,field,code", FIELD_REFUSALS)
def test_each_refusal_has_its_code_and_writes_nothing(client, program, settings, overrides, field, code):
    r = post(client, claim_payload(program.code, **overrides))
    assert r.status_code == 400, r.json()
    body = r.json()
    assert body["fields"][field][0]["code"] == code
    assert body["fields"][field][0]["message"]
    assert body["message"]
    assert_nothing_written(program, settings)


def test_all_refusals_are_reported_together(client, program, settings):
    payload = claim_payload(
        program.code, id_number="141182199001011234", vin="BAD", phone="123", account_holder="李四"
    )
    files = document_files()
    files["pos_slip"] = SimpleUploadedFile("pos.jpg", b"not an image at all", content_type="image/jpeg")
    r = post(client, payload, files)
    assert r.status_code == 400
    codes = {name: errs[0]["code"] for name, errs in r.json()["fields"].items()}
    assert codes == {
        "id_number": "invalid_id_number",
        "vin": "invalid_vin",
        "phone": "invalid_phone",
        "account_holder": "account_holder_mismatch",
        "pos_slip": "invalid_file",
    }
    assert_nothing_written(program, settings)


def test_luhn_failure_is_not_a_refusal(client, program, django_capture_on_commit_callbacks):
    payload = claim_payload(program.code, bank_account="6217000000000000001")
    with django_capture_on_commit_callbacks(execute=True):
        r = post(client, payload)
    assert r.status_code == 201
    claim = Claim.objects.get()
    assert claim.checks.get(code="bank_account_checksum").result == "fail"


def test_dealer_not_eligible(client, db):
    program = make_program(dealers=[{"name": "某车行", "credit_code": make_credit_code(7)}])
    r = post(client, claim_payload(program.code, dealer_credit_code=make_credit_code(8)))
    assert (
        r.status_code == 400 and r.json()["fields"]["dealer_credit_code"][0]["code"] == "dealer_not_eligible"
    )
    r = post(client, claim_payload(program.code, dealer_credit_code=make_credit_code(7)))
    assert r.status_code == 201
    assert Claim.objects.get().dealer_name == "某车行"


@pytest.mark.parametrize("kind", ["invoice", "pos_slip"])
def test_invalid_files(client, program, settings, kind):
    for content in (b"GIF89a....", b"%PDF-1.4 broken", os.urandom(2048)):
        files = document_files()
        files[kind] = SimpleUploadedFile("x.png", content, content_type="image/png")
        r = post(client, claim_payload(program.code), files)
        assert r.status_code == 400 and r.json()["fields"][kind][0]["code"] == "invalid_file"
    files = document_files()
    del files[kind]
    r = post(client, claim_payload(program.code), files)
    assert r.json()["fields"][kind][0]["code"] == "required"
    assert_nothing_written(program, settings)


def test_program_not_open(client, db, settings):
    today = timezone.localdate()
    program = make_program(
        "future",
        claim_window={
            "start": (today + dt.timedelta(days=1)).isoformat(),
            "end": (today + dt.timedelta(days=9)).isoformat(),
        },
    )
    r = post(client, claim_payload(program.code))
    assert r.status_code == 409 and r.json()["code"] == "program_not_open"
    assert_nothing_written(program, settings)


def test_budget_exhausted_without_waitlist(client, db, settings):
    program = make_program(budget="6000.00", waitlist={"enabled": False})
    assert post(client, claim_payload(program.code)).status_code == 201
    r = post(client, claim_payload(program.code))
    assert r.status_code == 409 and r.json()["code"] == "budget_exhausted"
    assert Claim.objects.count() == 1
    assert len(stored_files(settings)) == 5  # only the accepted claim's files


def test_duplicate_vehicle_and_invoice(client, program, settings):
    first = claim_payload(program.code)
    assert post(client, first).status_code == 201
    r = post(client, claim_payload(program.code, vin=first["vin"]))
    assert r.status_code == 409 and r.json()["code"] == "duplicate_vehicle"
    r = post(client, claim_payload(program.code, invoice_number=first["invoice_number"]))
    assert r.status_code == 409 and r.json()["code"] == "duplicate_invoice"
    assert Claim.objects.count() == 1
    assert len(stored_files(settings)) == 5


def test_a_duplicate_is_refused_by_the_constraint_and_leaves_no_trace(client, program, settings):
    """The submission finds duplicates with its INSERT: nothing of the refused claim stays, not even its number."""
    first = claim_payload(program.code)
    assert post(client, first).status_code == 201
    both = claim_payload(program.code, vin=first["vin"], invoice_number=first["invoice_number"])
    r = post(client, both)
    assert r.status_code == 409 and r.json()["code"] == "duplicate_vehicle"  # the vehicle is named first
    program.refresh_from_db()
    assert program.next_seq == 2 and LedgerEntry.objects.filter(program=program, kind="reserve").count() == 1
    assert ClaimEvent.objects.count() == 1 and len(stored_files(settings)) == 5
    assert post(client, claim_payload(program.code)).json()["claim_number"].endswith("-000002")


def test_a_duplicate_is_named_before_the_budget_is_exhausted(client, db):
    program = make_program(budget="6000.00", waitlist={"enabled": False})
    first = claim_payload(program.code)
    assert post(client, first).status_code == 201
    r = post(client, claim_payload(program.code, vin=first["vin"]))
    assert r.status_code == 409 and r.json()["code"] == "duplicate_vehicle"
    r = post(client, claim_payload(program.code))
    assert r.status_code == 409 and r.json()["code"] == "budget_exhausted"


def test_withdrawn_claim_frees_its_vin(client, program):
    payload = claim_payload(program.code)
    number = post(client, payload).json()["claim_number"]
    r = client.post(
        f"/api/v1/claims/{number}/withdraw/",
        {"id_number": payload["id_number"], "phone_last4": payload["phone"][-4:]},
        content_type="application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    again = {**claim_payload(program.code), "vin": payload["vin"]}
    assert post(client, again).status_code == 201


def test_idempotency_key_replay_and_reuse(client, program):
    payload = claim_payload(program.code)
    files_bytes = {k: f.read() for k, f in document_files("same").items()}

    def files():
        return {
            k: SimpleUploadedFile(f"{k}.png", b, content_type="image/png") for k, b in files_bytes.items()
        }

    first = post(client, payload, files(), **{"Idempotency-Key": "key-1"})
    second = post(client, payload, files(), **{"Idempotency-Key": "key-1"})
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second.headers["Idempotent-Replayed"] == "true"
    assert Claim.objects.count() == 1 and IdempotencyRecord.objects.count() == 1
    other = post(client, {**payload, "phone": "13900139000"}, files(), **{"Idempotency-Key": "key-1"})
    assert other.status_code == 409 and other.json()["code"] == "idempotency_key_reused"
    assert Claim.objects.count() == 1
    # A key longer than 128 characters is refused, not cut (two long keys would become one).
    long_key = post(
        client, {**payload, "vin": "LSVAB2BM5PN000001"}, files(), **{"Idempotency-Key": "k" * 129}
    )
    assert long_key.status_code == 400 and long_key.json()["code"] == "invalid_input"
    assert "128" in long_key.json()["message"]
    assert Claim.objects.count() == 1 and IdempotencyRecord.objects.count() == 1


def test_lookup_same_404_for_unknown_number_and_wrong_id(client, program):
    payload = claim_payload(program.code)
    number = post(client, payload).json()["claim_number"]
    wrong_id = client.post(
        "/api/v1/claims/lookup/",
        {"claim_number": number, "id_number": "110101199003074518"},
        content_type="application/json",
    )
    unknown = client.post(
        "/api/v1/claims/lookup/",
        {"claim_number": "TTEST-999999", "id_number": payload["id_number"]},
        content_type="application/json",
    )
    assert wrong_id.status_code == unknown.status_code == 404
    assert wrong_id.json() == unknown.json()


def test_lookup_is_rate_limited(client, program, settings):
    rates = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**rates, "lookup": "3/min"},
    }
    codes = [
        client.post(
            "/api/v1/claims/lookup/", {"claim_number": "X", "id_number": "Y"}, content_type="application/json"
        ).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [404, 404, 404] and codes[3:] == [429, 429]


def test_pii_encrypted_at_rest_and_masked(client, program):
    from django.db import connection

    payload = claim_payload(program.code)
    post(client, payload)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone, bank_account, id_number_masked FROM claims_claim")
        id_number, phone, bank, masked = cursor.fetchone()
    assert (
        payload["id_number"] not in id_number
        and payload["phone"] not in phone
        and payload["bank_account"] not in bank
    )
    assert masked == payload["id_number"][:4] + "*" * 10 + payload["id_number"][-4:]
    claim = Claim.objects.get()
    assert claim.id_number == payload["id_number"] and claim.bank_account == payload["bank_account"]


def test_images_are_reencoded_and_stored_outside_public_urls(client, program, settings):
    submit_claim(program)
    doc = ClaimDocument.objects.first()
    path = settings.DOCUMENTS_DIR / doc.storage_name
    assert path.exists() and doc.storage_name.endswith(f"{doc.stored_sha256}.png")
    assert client.get("/" + doc.storage_name).status_code == 404
