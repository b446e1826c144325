"""Dealers' sales records: the upload (all or nothing, idempotent), dealer accounts, the check and the report."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook
from rest_framework.test import APIClient

from claims.checks.services import claim_refresh_checks
from claims.models import Claim, DealerSale
from conftest import token_client
from tests.factories import make_credit_code, make_dealer_staff, make_vin, submit_claim

pytestmark = pytest.mark.django_db
URL = "/api/v1/staff/dealer-sales/"
HEADER = ["dealer_credit_code", "invoice_number", "invoice_code", "invoice_date", "vin", "invoice_amount"]


def sales_csv(rows) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode()


def row(claim: Claim, **over) -> list[str]:
    values = {
        "dealer_credit_code": claim.dealer_credit_code,
        "invoice_number": claim.invoice_number,
        "invoice_code": claim.invoice_code,
        "invoice_date": claim.invoice_date.isoformat(),
        "vin": claim.vin,
        "invoice_amount": str(claim.invoice_amount),
    }
    values.update(over)
    return [values[h] for h in HEADER]


def post(client, data: bytes, name="sales.csv", capture=None):
    body = {"file": SimpleUploadedFile(name, data)}
    if capture is None:
        return client.post(URL, body, format="multipart")
    with capture(execute=True):
        return client.post(URL, body, format="multipart")


def check_of(claim: Claim) -> str:
    return claim.checks.get(code="invoice_in_dealer_sales").result


@pytest.fixture
def dealer(db):
    return make_dealer_staff()


def test_import_twice_imports_once_and_drives_the_check(
    program, reviewer, django_capture_on_commit_callbacks
):
    claim, other = submit_claim(program), submit_claim(program)
    claim_refresh_checks(claim.pk)
    assert check_of(claim) == "unknown"  # no records for that month yet
    api = token_client(reviewer)
    data = sales_csv([row(claim), row(other, vin=make_vin(99001))])
    first = post(api, data, capture=django_capture_on_commit_callbacks)
    assert first.status_code == 200, first.json()
    assert first.json() == {"imported": 2, "duplicates": 0, "refused": []}
    assert post(api, data).json() == {"imported": 0, "duplicates": 2, "refused": []}
    assert DealerSale.objects.count() == 2
    assert check_of(claim) == "pass"  # recomputed when the records arrived
    assert check_of(other) == "fail"  # recorded with another VIN
    third = submit_claim(program)  # same dealer, same month, not in the records
    claim_refresh_checks(third.pk)
    assert check_of(third) == "fail"

    client = APIClient()
    client.force_login(reviewer)
    report = client.get("/admin/claims/dealersale/report/").content.decode()
    assert other.claim_number in report.split('id="records-disagreeing"')[1]
    assert claim.claim_number not in report


def test_bad_rows_refuse_the_whole_file(program, reviewer):
    claim = submit_claim(program)
    data = sales_csv(
        [
            row(claim),
            row(claim, invoice_number="77777777", vin="LSV123"),
            row(claim, invoice_number="8", invoice_amount="-1"),
        ]
    )
    r = post(token_client(reviewer), data)
    assert r.status_code == 400
    assert r.json()["imported"] == 0
    assert r.json()["refused"] == [{"row": 3, "code": "invalid_vin"}, {"row": 4, "code": "invalid_amount"}]
    assert DealerSale.objects.count() == 0


def test_dealer_account_uploads_own_sales_and_sees_only_its_claims(program, dealer, reviewer):
    own = submit_claim(program)
    foreign = submit_claim(program, dealer_credit_code=make_credit_code(2))
    api = token_client(dealer)
    refused = post(api, sales_csv([row(own), row(foreign)]))
    assert refused.status_code == 400 and refused.json()["refused"] == [{"row": 3, "code": "other_dealer"}]
    wb = Workbook()
    wb.active.append(HEADER)
    wb.active.append(row(own))
    buf = io.BytesIO()
    wb.save(buf)
    assert post(api, buf.getvalue(), "sales.xlsx").json() == {"imported": 1, "duplicates": 0, "refused": []}

    listing = api.get("/api/v1/staff/claims/").json()["results"]
    assert [c["claim_number"] for c in listing] == [own.claim_number]
    detail = api.get(f"/api/v1/staff/claims/{own.claim_number}/")
    assert detail.status_code == 200
    assert own.id_number not in detail.content.decode() and own.bank_account not in detail.content.decode()
    assert api.get(f"/api/v1/staff/claims/{foreign.claim_number}/").status_code == 404
    assert api.post(f"/api/v1/staff/claims/{own.claim_number}/approve/", {"note": "x"}).status_code == 403

    client = APIClient()
    client.force_login(dealer)
    assert client.get("/admin/claims/claim/").status_code == 403
    assert client.get("/admin/claims/dealersale/upload/").status_code == 200
    assert client.get("/admin/claims/dealersale/report/").status_code == 403
    assert token_client(reviewer).post(URL, {}, format="multipart").status_code == 400
