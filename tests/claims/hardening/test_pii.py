"""Personal data sealed: ID card images only for reviewers and (audited) auditors."""

from __future__ import annotations

import pytest

from claims.models import AuditLog
from conftest import token_client
from tests.factories import submit_claim

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("kind", ["id_card_front", "id_card_back"])
def test_id_card_images_only_for_reviewers_and_auditors(program, reviewer, auditor, finance, kind):
    claim = submit_claim(program)
    url = f"/api/v1/staff/documents/{claim.documents.get(kind=kind).pk}/"
    r = token_client(finance).get(url)
    assert r.status_code == 403 and r.json()["code"]
    assert not AuditLog.objects.filter(action="document_view").exists()
    for user in (reviewer, auditor):
        r = token_client(user).get(url)
        assert r.status_code == 200 and r["X-Frame-Options"] == "SAMEORIGIN"
        assert AuditLog.objects.filter(action="document_view", actor=user, detail__kind=kind).count() == 1
    # Finance still sees the documents it needs (the invoice).
    invoice = claim.documents.get(kind="invoice")
    assert token_client(finance).get(f"/api/v1/staff/documents/{invoice.pk}/").status_code == 200
