"""The audit trail: rows for decisions, changes and PII displays; append-only; auditors export."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client
from django.urls import reverse

from claims.base import AppendOnlyError
from claims.models import AuditLog
from conftest import token_client
from tests.factories import open_claim, submit_claim

pytestmark = pytest.mark.django_db


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_decisions_write_audit_rows_with_who_what_when_where(program, reviewer):
    a, b, c = submit_claim(program), submit_claim(program), submit_claim(program)
    for claim in (a, b, c):
        open_claim(reviewer, claim)
    api = token_client(reviewer)
    api.post(
        f"/api/v1/staff/claims/{a.claim_number}/approve/",
        {"note": "n"},
        format="json",
        REMOTE_ADDR="10.1.2.3",
    )
    api.post(f"/api/v1/staff/claims/{b.claim_number}/reject/", {"reason": "r"}, format="json")
    api.post(
        f"/api/v1/staff/claims/{c.claim_number}/return/", {"reason": "r", "fields": ["vin"]}, format="json"
    )
    rows = {
        row.action: row for row in AuditLog.objects.filter(claim__in=[a, b, c]).exclude(action="pii_view")
    }
    assert set(rows) == {"claim_approved", "claim_rejected", "claim_returned"}
    approved = rows["claim_approved"]
    assert approved.actor == reviewer and approved.actor_label == "reviewer1"
    assert approved.ip_address == "10.1.2.3" and approved.created_at
    assert rows["claim_returned"].detail["fields"] == ["vin"]


def test_refused_decision_writes_no_audit_row(program, auditor, reviewer):
    claim = submit_claim(program)
    open_claim(reviewer, claim)
    token_client(auditor).post(f"/api/v1/staff/claims/{claim.claim_number}/approve/", {}, format="json")
    assert not AuditLog.objects.filter(action="claim_approved").exists()
    token_client(reviewer).post(f"/api/v1/staff/claims/{claim.claim_number}/approve/", {}, format="json")
    token_client(reviewer).post(
        f"/api/v1/staff/claims/{claim.claim_number}/approve/", {}, format="json"
    )  # 409
    assert AuditLog.objects.filter(action="claim_approved").count() == 1


def test_every_unmasked_display_is_audited_without_the_value(program, reviewer):
    claim = submit_claim(program)
    api = token_client(reviewer)
    api.get(f"/api/v1/staff/claims/{claim.claim_number}/")
    api.get(f"/api/v1/staff/claims/{claim.claim_number}/")
    _admin(reviewer).get(reverse("admin:claims_claim_change", args=[claim.pk]))
    rows = AuditLog.objects.filter(action="pii_view", claim=claim)
    assert rows.count() == 3
    assert sorted(r.detail["where"] for r in rows) == ["admin", "api", "api"]
    for row in rows:
        assert claim.id_number not in str(row.detail) and claim.bank_account not in str(row.detail)


def test_lists_never_show_unmasked_pii(program, reviewer):
    claim = submit_claim(program)
    body = token_client(reviewer).get("/api/v1/staff/claims/").content.decode()
    assert claim.id_number not in body and claim.bank_account not in body and claim.phone not in body
    assert not AuditLog.objects.filter(action="pii_view").exists()


def test_audit_rows_cannot_be_changed_or_deleted(program, reviewer):
    claim = submit_claim(program)
    open_claim(reviewer, claim)
    token_client(reviewer).post(f"/api/v1/staff/claims/{claim.claim_number}/approve/", {}, format="json")
    row = AuditLog.objects.get(action="claim_approved")
    row.action = "tampered"
    with pytest.raises(AppendOnlyError):
        row.save()
    with pytest.raises(AppendOnlyError):
        row.delete()
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.filter(pk=row.pk).update(action="x")
    with pytest.raises(AppendOnlyError):
        AuditLog.objects.all().delete()


def test_admin_offers_no_way_to_edit_or_delete_audit_rows(program, reviewer, auditor, django_user_model):
    claim = submit_claim(program)
    open_claim(reviewer, claim)
    token_client(reviewer).post(f"/api/v1/staff/claims/{claim.claim_number}/approve/", {}, format="json")
    row = AuditLog.objects.get(action="claim_approved")
    root = django_user_model.objects.create_superuser("root", password="pass-word-123")
    for user in (auditor, root):
        client = _admin(user)
        change = client.get(reverse("admin:claims_auditlog_change", args=[row.pk]))
        assert change.status_code == 200 and 'name="_save"' not in change.content.decode()
        assert (
            client.post(reverse("admin:claims_auditlog_change", args=[row.pk]), {"action": "x"}).status_code
            == 403
        )
        assert client.get(reverse("admin:claims_auditlog_delete", args=[row.pk])).status_code == 403
        assert client.get(reverse("admin:claims_auditlog_add")).status_code == 403
        listing = client.get(reverse("admin:claims_auditlog_changelist")).content.decode()
        assert "delete_selected" not in listing
    row.refresh_from_db()
    assert row.action == "claim_approved"


def test_auditor_searches_and_exports_csv(program, reviewer, auditor):
    a, b = submit_claim(program), submit_claim(program)
    open_claim(reviewer, a)
    open_claim(reviewer, b)
    api = token_client(reviewer)
    api.post(f"/api/v1/staff/claims/{a.claim_number}/approve/", {}, format="json")
    api.post(f"/api/v1/staff/claims/{b.claim_number}/reject/", {"reason": '=HYPERLINK("x")'}, format="json")
    client = _admin(auditor)
    listing = client.get(reverse("admin:claims_auditlog_changelist"), {"q": a.claim_number}).content.decode()
    assert '<td class="field-action_display">审核通过' in listing
    assert '<td class="field-action_display">不予通过' not in listing
    filtered = client.get(
        reverse("admin:claims_auditlog_changelist"), {"action": "claim_rejected"}
    ).content.decode()
    assert '<td class="field-action_display">不予通过' in filtered
    assert '<td class="field-action_display">审核通过' not in filtered
    r = client.get(reverse("admin:claims_auditlog_export"), {"action": "claim_rejected"})
    assert r.status_code == 200 and r["Content-Type"].startswith("text/csv")
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:4] == ["id", "created_at", "actor", "action"]
    assert [row[3] for row in rows[1:]] == ["claim_rejected"]
    assert rows[1][4] == b.claim_number and rows[1][2] == "reviewer1"
    assert AuditLog.objects.filter(
        action="audit_export", actor=auditor
    ).exists()  # the export itself is audited


def test_reviewer_cannot_export_the_audit_trail(reviewer):
    assert _admin(reviewer).get(reverse("admin:claims_auditlog_export")).status_code == 403
    assert _admin(reviewer).get(reverse("admin:claims_auditlog_changelist")).status_code == 403


def test_csv_cells_cannot_start_a_formula():
    from claims.audit.admin import _csv_safe

    assert _csv_safe("=1+1") == "'=1+1" and _csv_safe("-2") == "'-2" and _csv_safe("ok") == "ok"
