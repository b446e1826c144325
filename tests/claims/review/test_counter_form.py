"""The counter form: scans kept after an error, dates as clerks type them, errors beside their fields."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import Claim, StagedUpload
from claims.review.counter import loose_date
from tests.factories import claim_payload, document_files

pytestmark = pytest.mark.django_db


def test_loose_dates():
    for text in ("2026/10/13", "2026-10-13", "2026年10月13日", "2026.10.13", " 2026/1/3 "):
        assert loose_date(text) in ("2026-10-13", "2026-01-03")
    assert loose_date("2026/13/40") == "2026/13/40"  # left for the service to refuse
    assert loose_date("13/10/2026") == "13/10/2026"


def test_scans_survive_an_error_and_the_fixed_form_submits(program, reviewer):
    client = Client()
    client.force_login(reviewer)
    url = reverse("admin:claims_claim_counter")
    page = client.get(url).content.decode()
    assert 'value="" selected' in page or '<option value="" selected>' in page  # no fuel type chosen
    payload = claim_payload(program.code, vin="BAD")
    for name in ("invoice_date", "license_issue_date", "pos_date"):
        payload[name] = payload[name].replace("-", "/")
    r = client.post(url, {**payload, **document_files()})
    assert r.status_code == 200
    body = r.content.decode()
    # The VIN error sits in the VIN's own row, after its input; the dates were understood.
    row = body[body.index('data-field="vin"') : body.index('data-field="plate_number"')]
    assert 'id="error-vin"' in row
    assert 'id="error-invoice_date"' not in body
    assert StagedUpload.objects.filter(claim__isnull=True).count() == 5
    for kind in ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip"):
        assert f'id="kept-{kind}"' in body
    ids = {f"{u.kind}_upload": u.upload_id for u in StagedUpload.objects.all()}
    for value in ids.values():
        assert f'value="{value}"' in body
    fixed = {**payload, "vin": claim_payload(program.code)["vin"], **ids}
    r = client.post(url, fixed)  # no files chosen again
    assert r.status_code == 302, r.content.decode()[:3000]
    claim = Claim.objects.get()
    assert claim.channel == "counter" and claim.documents.count() == 5
    assert str(claim.invoice_date) == payload["invoice_date"].replace("/", "-")
