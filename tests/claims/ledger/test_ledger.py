"""The public ledger: publication by command and after payouts, the API, the hash chain, verification."""

from __future__ import annotations

import csv
import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from rest_framework.test import APIClient

from claims.base import AppendOnlyError
from claims.ledger.models import GENESIS_SHA256, LedgerPublication
from claims.ledger.services import ledger_verify
from conftest import token_client
from tests.claims.payouts.payout_helpers import approve, results_csv, upload
from tests.factories import submit_claim

pytestmark = pytest.mark.django_db


def _publish(code: str) -> str:
    out = io.StringIO()
    call_command("publish_ledger", code, stdout=out)
    return out.getvalue().strip()


def _rows(content: bytes) -> list[dict]:
    return list(csv.DictReader(io.StringIO(content.decode("utf-8"))))


def test_publications_chain_and_relist_paid_claims(
    program, reviewer, finance, finance2, django_capture_on_commit_callbacks
):
    first, second = (
        approve(submit_claim(program, applicant_name="王小明", account_holder="王小明")) for _ in range(2)
    )
    submit_claim(program)  # under review: not published
    line = _publish(program.code)
    _word, seq, _word2, sha = line.split()
    api = APIClient()
    ledger = api.get(f"/api/v1/programs/{program.code}/ledger/").json()
    assert [(p["seq"], p["count"], p["total"], p["sha256"]) for p in ledger] == [(1, 2, "12000.00", sha)]
    assert ledger[0]["prev_sha256"] == GENESIS_SHA256 and seq == "1"
    response = api.get(f"/api/v1/programs/{program.code}/ledger/1.csv")
    assert response.status_code == 200
    content = response.content
    assert hashlib.sha256(GENESIS_SHA256.encode() + content).hexdigest() == sha
    rows = _rows(content)
    assert list(rows[0]) == [
        "claim_number",
        "applicant",
        "vin_last6",
        "fuel_type",
        "subsidy_amount",
        "status",
        "decided_on",
        "paid_on",
    ]
    assert [r["claim_number"] for r in rows] == [first.claim_number, second.claim_number]  # arrival order
    assert rows[0]["applicant"] == "王*" and rows[0]["vin_last6"] == first.vin[-6:]
    assert rows[0]["status"] == "approved" and rows[0]["paid_on"] == ""
    assert _publish(program.code) == ""  # nothing new: no publication

    # Paying the first claim publishes it again, as paid, chained to publication 1 (eager task after import).
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    token_client(finance2).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/")
    data = results_csv(
        [[first.claim_number, "paid", "REF1", ""], [second.claim_number, "failed", "", "户名不符"]]
    )
    with django_capture_on_commit_callbacks(execute=True):
        r = token_client(finance).post(
            f"/api/v1/staff/payout-batches/{batch_id}/results/", upload(data), format="multipart"
        )
    assert r.status_code == 200, r.json()
    ledger = api.get(f"/api/v1/programs/{program.code}/ledger/").json()
    assert [p["seq"] for p in ledger] == [1, 2] and ledger[1]["prev_sha256"] == ledger[0]["sha256"]
    rows = _rows(api.get(f"/api/v1/programs/{program.code}/ledger/2.csv").content)
    assert [(r["claim_number"], r["status"]) for r in rows] == [(first.claim_number, "paid")]
    assert rows[0]["paid_on"]
    assert "王小明" not in api.get(f"/api/v1/programs/{program.code}/ledger/2.csv").content.decode()


def test_tampered_file_fails_verification_on_server_and_page(program):
    for _ in range(2):
        approve(submit_claim(program))
    _publish(program.code)
    approve(submit_claim(program))
    _publish(program.code)
    publications = list(LedgerPublication.objects.filter(program=program).order_by("seq"))
    genuine = bytes(publications[1].content)
    assert ledger_verify(program, genuine).ok and ledger_verify(program, genuine).seq == 2
    tampered = genuine.replace(b",6000.00,", b",7000.00,", 1)
    assert tampered != genuine
    result = ledger_verify(program, tampered)
    assert not result.ok and result.chain_ok
    deleted_row = b"\r\n".join(bytes(publications[0].content).split(b"\r\n")[:-2]) + b"\r\n"
    assert not ledger_verify(program, deleted_row, 1).ok

    client = APIClient()
    page = f"/p/{program.code}/ledger/verify/"
    ok = client.post(page, {"file": SimpleUploadedFile("2.csv", genuine, "text/csv")})
    assert ok.status_code == 200 and "verify-ok" in ok.content.decode()
    bad = client.post(page, {"file": SimpleUploadedFile("2.csv", tampered, "text/csv")})
    assert bad.status_code == 200 and "verify-fail" in bad.content.decode()
    assert client.post(page, {}).status_code == 400
    listing = client.get(f"/p/{program.code}/ledger/").content.decode()
    assert publications[1].sha256 in listing
    assert f"/p/{program.code}/ledger/" in client.get(f"/p/{program.code}/").content.decode()


def test_publications_are_immutable(program):
    approve(submit_claim(program))
    _publish(program.code)
    publication = LedgerPublication.objects.get(program=program)
    with pytest.raises(AppendOnlyError):
        publication.save()
    with pytest.raises(AppendOnlyError):
        LedgerPublication.objects.filter(pk=publication.pk).update(count=5)
    assert APIClient().get(f"/api/v1/programs/{program.code}/ledger/9.csv").status_code == 404
