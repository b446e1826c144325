"""Decisions that a careless click cannot get wrong, and separation of duties (`same_person`, the clerk role)."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from claims.accounts.roles import user_roles
from claims.intake.services import claim_submit
from claims.models import AuditLog, Claim
from conftest import token_client
from tests.factories import claim_payload, document_files, make_staff, submit_claim

pytestmark = pytest.mark.django_db

STAFF = "/api/v1/staff/claims/"


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _open(api, claim) -> None:
    assert api.get(f"{STAFF}{claim.claim_number}/").status_code == 200


@pytest.fixture
def clerk(db):
    return make_staff("clerk1", "clerk")


@pytest.fixture
def reviewer2(db):
    return make_staff("reviewer2", "reviewer")


def test_no_decision_in_the_pages_on_a_claim_nobody_opened(program, reviewer):
    claim = submit_claim(program)
    client = _admin(reviewer)
    url = reverse("admin:claims_claim_change", args=[claim.pk])
    # A decision posted without the review page having been shown to this reviewer is refused.
    for body in ({"action": "approve"}, {"action": "reject", "reason_code": "false_documents"}):
        client.post(url, body)
        claim.refresh_from_db()
        assert claim.status == "under_review"
    assert client.get(url).status_code == 200
    client.post(url, {"action": "approve"})
    claim.refresh_from_db()
    assert claim.status == "approved"


def test_the_api_decides_as_the_public_contract_says(program, reviewer):
    claim = submit_claim(program)
    r = token_client(reviewer).post(f"{STAFF}{claim.claim_number}/approve/", {}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "approved"


def test_the_bulk_approve_action_is_gone(program, reviewer):
    claim = submit_claim(program)
    client = _admin(reviewer)
    html = client.get(reverse("admin:claims_claim_changelist")).content.decode()
    assert "approve_selected" not in html
    client.post(
        reverse("admin:claims_claim_changelist"),
        {"action": "approve_selected", "_selected_action": [claim.pk]},
    )
    claim.refresh_from_db()
    assert claim.status == "under_review"


def test_a_reason_must_be_chosen_and_other_needs_a_note(program, reviewer):
    claim = submit_claim(program)
    api = token_client(reviewer)
    _open(api, claim)
    url = f"{STAFF}{claim.claim_number}/reject/"
    r = api.post(url, {}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "reason_required"
    r = api.post(url, {"reason_code": "other"}, format="json")
    assert r.status_code == 400 and r.json()["code"] == "reason_required"
    r = api.post(url, {"reason_code": "other", "reason": "发票为二手车发票"}, format="json")
    assert r.status_code == 200 and r.json()["reject_reason"] == "发票为二手车发票"


def test_a_return_in_the_pages_names_at_least_one_field_or_document(program, reviewer):
    claim = submit_claim(program)
    client = _admin(reviewer)
    url = reverse("admin:claims_claim_change", args=[claim.pk])
    assert client.get(url).status_code == 200
    client.post(url, {"action": "return", "reason_code": "document_unclear"})
    claim.refresh_from_db()
    assert claim.status == "under_review"
    client.post(url, {"action": "return", "reason_code": "document_unclear", "documents": ["invoice"]})
    claim.refresh_from_db()
    assert claim.status == "returned" and claim.returned_documents == ["invoice"]


def test_review_page_has_no_preselected_reason_and_puts_the_invoice_first(program, reviewer):
    claim = submit_claim(program)
    html = _admin(reviewer).get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert html.count('<option value="" selected disabled>') == 2
    assert 'id="decision-panel"' in html and "position:sticky" in html
    assert (
        html.index('id="doc-invoice"')
        < html.index('id="doc-id_card_front"')
        < html.index('id="doc-id_card_back"')
    )


def test_clerk_enters_claims_at_the_counter_but_decides_nothing(program, clerk):
    assert user_roles(clerk) == {"clerk"}
    payload = claim_payload(program.code)
    r = _admin(clerk).post(reverse("admin:claims_claim_counter"), {**payload, **document_files()})
    assert r.status_code == 302, r.content.decode()[:2000]
    claim = Claim.objects.get(channel="counter")
    assert claim.taken_by == clerk
    api = token_client(clerk)
    assert api.get(f"{STAFF}{claim.claim_number}/").status_code == 200  # lookup
    r = api.post(f"{STAFF}{claim.claim_number}/approve/", {}, format="json")
    assert r.status_code == 403
    r = _admin(clerk).post(reverse("admin:claims_claim_change", args=[claim.pk]), {"action": "approve"})
    assert r.status_code == 403
    claim.refresh_from_db()
    assert claim.status == "under_review"


def test_nobody_decides_a_claim_they_entered(program, reviewer, reviewer2):
    payload = claim_payload(program.code)
    r = _admin(reviewer).post(reverse("admin:claims_claim_counter"), {**payload, **document_files()})
    assert r.status_code == 302
    claim = Claim.objects.get(channel="counter")
    api = token_client(reviewer)
    _open(api, claim)
    for action, body in (
        ("approve", {}),
        ("reject", {"reason_code": "false_documents"}),
        ("return", {"reason_code": "document_unclear", "documents": ["invoice"]}),
    ):
        r = api.post(f"{STAFF}{claim.claim_number}/{action}/", body, format="json")
        assert r.status_code == 403 and r.json()["code"] == "same_person", r.json()
    # The admin refuses it too, in Chinese, and does not offer the buttons.
    client = _admin(reviewer)
    page = client.get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert 'id="approve-form"' not in page and "须由其他审核员审核" in page
    r = client.post(reverse("admin:claims_claim_change", args=[claim.pk]), {"action": "approve"})
    messages = [str(m) for m in get_messages(r.wsgi_request)]
    assert any("不能审核自己受理的申请" in m for m in messages), messages
    claim.refresh_from_db()
    assert claim.status == "under_review" and not AuditLog.objects.filter(action="claim_approved").exists()
    # Another reviewer may decide it.
    other = token_client(reviewer2)
    _open(other, claim)
    assert other.post(f"{STAFF}{claim.claim_number}/approve/", {}, format="json").status_code == 200


def test_create_staff_clerk():
    out = io.StringIO()
    call_command("create_staff", "clerk9", "--role", "clerk", "--password", "a-long-pass-word-9", stdout=out)
    assert "clerk" in out.getvalue()
    assert user_roles(get_user_model().objects.get(username="clerk9")) == {"clerk"}


def test_the_buyer_reads_the_rejection_reason_first_in_the_status_box(program, reviewer):
    payload = claim_payload(program.code)
    claim = claim_submit(program.code, payload, document_files()).claim
    api = token_client(reviewer)
    _open(api, claim)
    r = api.post(f"{STAFF}{claim.claim_number}/reject/", {"reason_code": "buyer_mismatch"}, format="json")
    assert r.status_code == 200
    buyer = Client()
    r = buyer.post(
        reverse("web:lookup"),
        {"claim_number": claim.claim_number, "id_number": payload["id_number"]},
        follow=True,
    )
    html = r.content.decode()
    assert r.status_code == 200 and 'id="status-reason"' in html
    assert html.index('id="status-reason"') < html.index("办理记录")
    assert "申请人与购车发票上的购买方不一致" in html[html.index('id="status-reason"') :][:300]
    lookup = Client().post(
        "/api/v1/claims/lookup/",
        {"claim_number": claim.claim_number, "id_number": payload["id_number"]},
        content_type="application/json",
    )
    assert lookup.json()["status_reason"] == "申请人与购车发票上的购买方不一致"
