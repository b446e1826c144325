"""Staged uploads, the dry-run check and the JSON submission that names staged uploads."""

import datetime as dt
import random
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.settings import api_settings

from claims.intake.documents import document_path
from claims.intake.uploads import staged_uploads_purge
from claims.models import Claim, ClaimDocument, LedgerEntry, StagedUpload
from tests.docgen import invoices
from tests.docgen import ofd as make_ofd
from tests.factories import claim_payload, document_files, image_bytes, make_program

KINDS = ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip")


def stage_all(client, tag="x") -> dict[str, str]:
    ids = {}
    for kind, upload in document_files(tag).items():
        r = client.post("/api/v1/uploads/", {"kind": kind, "file": upload})
        assert r.status_code == 201, r.json()
        body = r.json()
        assert body["kind"] == kind and len(body["sha256"]) == 64 and body["expires_at"]
        ids[f"{kind}_upload"] = body["upload_id"]
    return ids


def test_upload_is_validated_and_stored_at_upload_time(client, program):
    r = client.post(
        "/api/v1/uploads/",
        {"kind": "invoice", "file": SimpleUploadedFile("a.jpg", b"not an image", content_type="image/jpeg")},
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_file"
    assert "file" in r.json()["fields"]
    r = client.post("/api/v1/uploads/", {"kind": "passport", "file": document_files()["invoice"]})
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    assert not StagedUpload.objects.exists()
    ids = stage_all(client)
    staged = StagedUpload.objects.get(upload_id=ids["invoice_upload"])
    assert len(staged.upload_id) >= 40
    assert document_path(staged.storage_name).exists()


def test_json_submission_with_uploads_then_reuse_refused(client, program, django_capture_on_commit_callbacks):
    ids = stage_all(client)
    payload = claim_payload(program.code)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        r = client.post("/api/v1/claims/", {**payload, **ids}, content_type="application/json")
    # One message to the worker for the whole claim (no file work), besides the applicant's SMS of acceptance.
    work = [c for c in callbacks if "notification" not in c.__qualname__]
    assert len(work) == 1
    assert r.status_code == 201, r.json()
    claim = Claim.objects.get(claim_number=r.json()["claim_number"])
    docs = ClaimDocument.objects.filter(claim=claim)
    assert sorted(d.kind for d in docs) == sorted(KINDS)
    assert StagedUpload.objects.filter(claim=claim).count() == 5
    assert claim.program_version and claim.quote_basis["subsidy_amount"] == "6000.00"
    assert claim.quote_basis["above"] == "100000.00" and claim.quote_basis["fuel_type"] == "nev"
    # The checks ran through the one claim-level task (eager in tests).
    assert claim.checks.exists()
    other = claim_payload(program.code)
    r = client.post("/api/v1/claims/", {**other, **ids}, content_type="application/json")
    assert r.status_code == 400
    assert r.json()["fields"]["invoice"][0]["code"] == "invalid_file"
    assert Claim.objects.count() == 1
    call_command("check_budget", program.code)


def test_missing_or_unknown_upload_is_a_field_error(client, program):
    ids = stage_all(client)
    ids["pos_slip_upload"] = "nope"
    del ids["invoice_upload"]
    r = client.post(
        "/api/v1/claims/", {**claim_payload(program.code), **ids}, content_type="application/json"
    )
    assert r.status_code == 400
    fields = r.json()["fields"]
    assert fields["invoice"][0]["code"] == "required"
    assert fields["pos_slip"][0]["code"] == "invalid_file"
    assert not Claim.objects.exists()
    r = client.post("/api/v1/claims/", [1, 2], content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"


def test_check_writes_nothing_and_answers_like_a_submission(client, program):
    ids = stage_all(client)
    payload = claim_payload(program.code)
    r = client.post("/api/v1/claims/check/", {**payload, **ids}, content_type="application/json")
    assert r.status_code == 200 and r.json() == {"ok": True, "subsidy_amount": "6000.00"}
    assert not Claim.objects.exists() and not LedgerEntry.objects.filter(claim__isnull=False).exists()
    assert not StagedUpload.objects.filter(claim__isnull=False).exists()
    bad = {**payload, **ids, "id_number": "123", "invoice_amount": "100.00"}
    check = client.post("/api/v1/claims/check/", bad, content_type="application/json")
    submit = client.post("/api/v1/claims/", bad, content_type="application/json")
    assert check.status_code == submit.status_code == 400
    assert check.json() == submit.json()
    # Multipart works too.
    r = client.post("/api/v1/claims/check/", {**claim_payload(program.code), **document_files()})
    assert r.status_code == 200, r.json()
    # A duplicate vehicle is refused by the check like by the submission.
    assert (
        client.post("/api/v1/claims/", {**payload, **ids}, content_type="application/json").status_code == 201
    )
    again = {**payload, **stage_all(client, "y")}
    check = client.post("/api/v1/claims/check/", again, content_type="application/json")
    assert check.status_code == 409 and check.json()["code"] == "duplicate_vehicle"


def test_before_the_window_upload_and_check_accepted_submission_not(client, db):
    today = timezone.localdate()
    upcoming = make_program("upcoming-car")
    upcoming.claim_window_start = today + dt.timedelta(days=1)
    upcoming.save()
    ids = stage_all(client)
    payload = claim_payload(upcoming.code)
    r = client.post("/api/v1/claims/check/", {**payload, **ids}, content_type="application/json")
    assert r.status_code == 200, r.json()
    r = client.post("/api/v1/claims/", {**payload, **ids}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "program_not_open"
    upcoming.claim_window_end = today - dt.timedelta(days=1)
    upcoming.claim_window_start = today - dt.timedelta(days=5)
    upcoming.save()
    r = client.post("/api/v1/claims/check/", {**payload, **ids}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "program_not_open"


def test_quota_per_address_is_413(client, program, settings):
    settings.STAGED_UPLOAD_MAX_COUNT_PER_ADDRESS = 2
    for i in range(2):
        f = SimpleUploadedFile("a.png", image_bytes(f"q{i}"), content_type="image/png")
        assert client.post("/api/v1/uploads/", {"kind": "invoice", "file": f}).status_code == 201
    f = SimpleUploadedFile("a.png", image_bytes("q3"), content_type="image/png")
    r = client.post("/api/v1/uploads/", {"kind": "invoice", "file": f})
    assert r.status_code == 413 and r.json()["code"] == "upload_quota_exceeded" and r.json()["message"]
    settings.STAGED_UPLOAD_MAX_COUNT_PER_ADDRESS = 40
    settings.STAGED_UPLOAD_MAX_BYTES_TOTAL = 10
    r = client.post("/api/v1/uploads/", {"kind": "invoice", "file": f})
    assert r.status_code == 413 and r.json()["code"] == "upload_storage_full"


def test_the_total_cap_sums_unused_uploads_once_then_counts_each_accepted_one(client, program, settings):
    """The total of unused staged bytes is summed over every row once, then kept up to date upload by upload."""

    def upload(tag: str):
        f = SimpleUploadedFile("a.png", image_bytes(tag), content_type="image/png")
        with CaptureQueriesContext(connection) as queries:
            r = client.post("/api/v1/uploads/", {"kind": "invoice", "file": f})
        sums_over_all = [
            q for q in queries.captured_queries if "SUM" in q["sql"] and "address_hash" not in q["sql"]
        ]
        return r, len(sums_over_all)

    first, summed = upload("t1")
    assert first.status_code == 201 and summed == 1
    second, summed = upload("t2")
    assert second.status_code == 201 and summed == 0
    held = sum(StagedUpload.objects.filter(claim__isnull=True).values_list("size", flat=True))
    settings.STAGED_UPLOAD_MAX_BYTES_TOTAL = held + 1  # the cached figure already holds both uploads
    third, summed = upload("t3")
    assert third.status_code == 413 and third.json()["code"] == "upload_storage_full" and summed == 0
    staged_uploads_purge(timezone.now() + dt.timedelta(days=2))  # purging forgets the figure ...
    fourth, summed = upload("t4")
    assert fourth.status_code == 201 and summed == 1  # ... and the next upload sums afresh


def test_upload_rate_limit_is_429(client, program, monkeypatch):
    monkeypatch.setitem(api_settings.DEFAULT_THROTTLE_RATES, "upload", "1/min")
    codes = [
        client.post("/api/v1/uploads/", {"kind": "invoice", "file": document_files()["invoice"]}).status_code
        for _ in range(2)
    ]
    assert codes == [201, 429]


def test_unused_uploads_are_purged_with_their_files(client, program):
    ids = stage_all(client)
    used = client.post(
        "/api/v1/claims/", {**claim_payload(program.code), **ids}, content_type="application/json"
    )
    assert used.status_code == 201
    unused = stage_all(client, "unused")
    row = StagedUpload.objects.get(upload_id=unused["invoice_upload"])
    path = document_path(row.storage_name)
    assert staged_uploads_purge() == 0
    later = timezone.now() + dt.timedelta(hours=25)
    assert staged_uploads_purge(later) == 5
    assert not path.exists()
    assert StagedUpload.objects.count() == 5  # the used ones stay, with their files
    assert all(document_path(d.storage_name).exists() for d in ClaimDocument.objects.all())
    assert Decimal(program.budget_total) > 0


def test_ofd_invoice_can_be_staged(client, program):
    data = make_ofd.invoice_ofd(invoices.invoice_truth(random.Random(3), "digital2024"))
    f = SimpleUploadedFile("fapiao.ofd", data, content_type="application/octet-stream")
    r = client.post("/api/v1/uploads/", {"kind": "invoice", "file": f})
    assert r.status_code == 201, r.json()
    assert StagedUpload.objects.get().storage_name.endswith(".ofd")
