"""The staff admin: every page for every role, the review page's decisions, counter intake."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.urls import reverse

from claims.models import AuditLog, Claim, ClaimCheck, ClaimEvent
from tests.factories import claim_payload, document_files, make_staff, submit_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def claim(program):
    return submit_claim(program)


@pytest.fixture
def users(reviewer, finance, auditor):
    User = get_user_model()
    return {
        "reviewer": reviewer,
        "finance": finance,
        "auditor": auditor,
        "superuser": User.objects.create_superuser("root", password="pass-word-123"),
        "norole": User.objects.create_user("plain", password="pass-word-123", is_staff=True),
    }


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _pages(claim) -> dict[str, str]:
    return {
        "index": reverse("admin:index"),
        "claims": reverse("admin:claims_claim_changelist"),
        "claims_filtered": reverse("admin:claims_claim_changelist")
        + "?status__exact=under_review&fuel_type__exact=nev&failing_check=vin_matches_invoice&tier=2",
        "claims_search": reverse("admin:claims_claim_changelist") + f"?q={claim.vin}",
        "review": reverse("admin:claims_claim_change", args=[claim.pk]),
        "dashboard": reverse("admin:claims_claim_dashboard"),
        "counter": reverse("admin:claims_claim_counter"),
        "audit": reverse("admin:claims_auditlog_changelist"),
        "audit_export": reverse("admin:claims_auditlog_export"),
        "programs": reverse("admin:claims_program_changelist"),
        "ledger": reverse("admin:claims_ledgerentry_changelist"),
        "claim_add": reverse("admin:claims_claim_add"),
        "claim_delete": reverse("admin:claims_claim_delete", args=[claim.pk]),
    }


ALL = ("reviewer", "finance", "auditor", "superuser")
ALLOWED = {
    "index": ALL + ("norole",),
    "claims": ALL,
    "claims_filtered": ALL,
    "claims_search": ALL,
    "review": ALL,
    "dashboard": ALL,
    "counter": ("reviewer", "superuser"),
    "audit": ("auditor", "superuser"),
    "audit_export": ("auditor", "superuser"),
    "programs": ALL,
    "ledger": ("finance", "auditor", "superuser"),
    "claim_add": (),
    "claim_delete": (),
}


@pytest.mark.parametrize("role", ["reviewer", "finance", "auditor", "superuser", "norole"])
@pytest.mark.parametrize("page", list(ALLOWED))
def test_every_admin_page_for_every_role(claim, users, role, page):
    url = _pages(claim)[page]
    response = _client(users[role]).get(url)
    if role in ALLOWED[page]:
        assert response.status_code == 200, (role, page, response.status_code)
        if page == "audit_export":
            b"".join(response.streaming_content)
    else:
        assert response.status_code == 403, (role, page, response.status_code)


def test_anonymous_is_sent_to_login(claim):
    response = Client().get(reverse("admin:claims_claim_change", args=[claim.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_claims_list_shows_columns_and_failed_checks(claim, reviewer):
    ClaimCheck.objects.update_or_create(claim=claim, code="vin_matches_invoice", defaults={"result": "fail"})
    html = _client(reviewer).get(reverse("admin:claims_claim_changelist")).content.decode()
    assert claim.claim_number in html
    assert "审核中" in html and "¥6,000.00" in html
    assert "车架号与发票一致" in html  # the failed check, by its label
    assert claim.id_number not in html


def test_claims_list_search_by_id_number_uses_the_hash(program, reviewer):
    a, b = submit_claim(program), submit_claim(program)
    # A full ID number in the URL is refused (it would end up in access logs): the POST form finds it.
    html = (
        _client(reviewer).get(reverse("admin:claims_claim_changelist"), {"q": b.id_number}).content.decode()
    )
    assert b.claim_number not in html and a.claim_number not in html and "POST" in html
    html = (
        _client(reviewer).post(reverse("admin:claims_claim_search"), {"number": b.id_number}).content.decode()
    )
    assert b.claim_number in html and a.claim_number not in html
    html = (
        _client(reviewer)
        .get(reverse("admin:claims_claim_changelist"), {"q": a.plate_number})
        .content.decode()
    )
    assert a.claim_number in html and b.claim_number not in html


def test_claims_list_query_count_does_not_grow_with_rows(program, reviewer, django_assert_max_num_queries):
    client = _client(reviewer)
    for _ in range(3):
        submit_claim(program)
    client.get(reverse("admin:claims_claim_changelist"))  # warm caches (content types, session)
    with django_assert_max_num_queries(14) as ctx:
        client.get(reverse("admin:claims_claim_changelist"))
    few = len(ctx.captured_queries)
    for _ in range(10):
        submit_claim(program)
    with django_assert_max_num_queries(few) as ctx2:
        client.get(reverse("admin:claims_claim_changelist"))
    sqls = [q["sql"].upper() for q in ctx2.captured_queries]
    count_at = next(i for i, sql in enumerate(sqls) if "COUNT(" in sql)
    # On PostgreSQL the planner's estimate comes first: an exact count only when it is cheap.
    if connection.vendor == "postgresql":
        assert sqls[count_at - 1].startswith("EXPLAIN")


def test_review_page_shows_documents_declared_values_and_checks(claim, reviewer):
    from claims.intake.services import claim_after_documents_change

    claim_after_documents_change(claim.pk)
    html = _client(reviewer).get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    for document in claim.documents.filter(is_current=True):
        assert f"/api/v1/staff/documents/{document.pk}/" in html
    assert claim.vin in html and claim.id_number in html  # reviewer sees the full ID number ...
    assert AuditLog.objects.filter(
        action="pii_view", claim=claim, detail__where="admin"
    ).exists()  # ... audited
    assert "银行卡号校验位正确" in html
    assert 'name="action" value="approve"' in html
    assert 'name="status"' not in html  # status is never a form field


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_review_page_masks_pii_and_has_no_buttons_for_other_roles(claim, users, role):
    html = _client(users[role]).get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert claim.id_number not in html and claim.bank_account not in html
    assert claim.id_number_masked in html
    assert 'value="approve"' not in html
    assert not AuditLog.objects.filter(action="pii_view").exists()


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_other_roles_cannot_post_decisions(claim, users, role):
    response = _client(users[role]).post(
        reverse("admin:claims_claim_change", args=[claim.pk]), {"action": "approve"}
    )
    assert response.status_code == 403
    claim.refresh_from_db()
    assert claim.status == "under_review"


def test_review_page_decisions_go_through_the_services_and_move_to_the_next(program, reviewer):
    first, second, third = submit_claim(program), submit_claim(program), submit_claim(program)
    client = _client(reviewer)
    for claim in (first, second, third):  # the reviewer opens each review page before deciding
        assert client.get(reverse("admin:claims_claim_change", args=[claim.pk])).status_code == 200
    r = client.post(
        reverse("admin:claims_claim_change", args=[first.pk]), {"action": "approve", "note": "ok"}
    )
    assert r.status_code == 302 and r["Location"] == reverse("admin:claims_claim_change", args=[second.pk])
    first.refresh_from_db()
    assert first.status == "approved" and first.decided_by == reviewer
    r = client.post(
        reverse("admin:claims_claim_change", args=[second.pk]),
        {"action": "return", "reason_code": "document_unclear", "documents": ["invoice", "pos_slip"]},
    )
    second.refresh_from_db()
    assert second.status == "returned" and second.returned_documents == ["invoice", "pos_slip"]
    r = client.post(
        reverse("admin:claims_claim_change", args=[third.pk]),
        {"action": "reject", "reason_code": "invoice_invalid"},
    )
    third.refresh_from_db()
    assert third.status == "rejected"
    program.refresh_from_db()
    assert program.reserved == Decimal("12000.00")
    assert set(AuditLog.objects.values_list("action", flat=True)) >= {
        "claim_approved",
        "claim_returned",
        "claim_rejected",
    }
    # a second decision on a decided claim is refused with a message, nothing written
    events = ClaimEvent.objects.count()
    r = client.post(
        reverse("admin:claims_claim_change", args=[first.pk]),
        {"action": "reject", "reason_code": "invoice_invalid"},
        follow=True,
    )
    assert "不能执行此操作" in r.content.decode() and "invalid_transition" not in r.content.decode()
    assert ClaimEvent.objects.count() == events


def test_bulk_approve_is_not_offered_to_auditors(claim, auditor):
    r = _client(auditor).post(
        reverse("admin:claims_claim_changelist"),
        {"action": "approve_selected", "_selected_action": [claim.pk]},
    )
    claim.refresh_from_db()
    assert claim.status == "under_review"
    assert r.status_code in (200, 302)


def test_dashboard_figures(program, reviewer):
    submit_claim(program)
    submit_claim(program)
    html = _client(reviewer).get(reverse("admin:claims_claim_dashboard")).content.decode()
    assert program.name in html
    assert "12,000.00" in html and "788,000.00" in html
    assert "T" in html and Claim.objects.order_by("seq").first().claim_number in html  # oldest waiting


# --- Counter intake ---------------------------------------------------------------------------------------------


def test_counter_intake_same_queue_marked_with_the_clerk(program, reviewer):
    online = submit_claim(program)
    payload = claim_payload(program.code)
    r = _client(reviewer).post(reverse("admin:claims_claim_counter"), {**payload, **document_files()})
    assert r.status_code == 302, r.content.decode()[:2000]
    claim = Claim.objects.exclude(pk=online.pk).get()
    assert claim.channel == "counter" and claim.taken_by == reviewer and claim.seq == online.seq + 1
    assert claim.status == "under_review"
    event = ClaimEvent.objects.filter(claim=claim).get()
    assert event.reason_code == "counter_intake" and event.actor == reviewer
    assert AuditLog.objects.filter(action="claim_counter_intake", claim=claim, actor=reviewer).exists()


def test_counter_intake_refusal_shows_field_errors_and_writes_nothing(program, reviewer):
    payload = claim_payload(program.code, vin="LSV00000000000000", bank_account="123")
    r = _client(reviewer).post(reverse("admin:claims_claim_counter"), {**payload, **document_files()})
    assert r.status_code == 200
    html = r.content.decode()
    assert "errorlist" in html
    assert not Claim.objects.exists()


def test_counter_intake_duplicate_vehicle_is_refused(program, reviewer):
    existing = submit_claim(program)
    payload = claim_payload(program.code, vin=existing.vin)
    r = _client(reviewer).post(reverse("admin:claims_claim_counter"), {**payload, **document_files()})
    assert r.status_code == 200 and "errornote" in r.content.decode()
    assert Claim.objects.count() == 1


def test_staff_from_create_staff_can_log_in_to_admin(db):
    make_staff("clerk", "reviewer", "pass-word-123")
    client = Client()
    r = client.post(
        reverse("admin:login"), {"username": "clerk", "password": "pass-word-123", "next": "/admin/"}
    )
    assert r.status_code == 302
    assert client.get(reverse("admin:claims_claim_changelist")).status_code == 200


def test_review_page_highlights_ocr_mismatches(claim, reviewer, monkeypatch):
    readings = {
        "invoice": {
            "vin": {"value": "LSVXXXXXXXXXXXXXX", "confidence": 0.99, "confident": True},
            "amount_figures": {"value": "158000.00", "confidence": 0.99, "confident": True},
            "buyer_id_number": {"value": claim.id_number, "confidence": 0.9, "confident": True},
        },
        "id_card_front": None,
        "pos_slip": {"status": "failed", "detail": "识别失败"},
    }
    monkeypatch.setattr("claims.review.selectors.claim_ocr", lambda c: readings)
    html = _client(reviewer).get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert '<div class="mismatch">LSVXXXXXXXXXXXXXX</div>' in html
    assert '<div class="match">158000.00</div>' in html
    assert "识别失败" in html and "识别中" in html
    auditor = make_staff("aud2", "auditor")
    masked = _client(auditor).get(reverse("admin:claims_claim_change", args=[claim.pk])).content.decode()
    assert claim.id_number not in masked  # OCR readings of the ID number are masked too
    assert f'<div class="match">{claim.id_number_masked}</div>' in masked  # compared before masking


def test_review_page_decisions_need_a_chosen_reason(program, reviewer):
    """From the review page a rejection or return names a reason (free text alone is the API's shorthand);
    "other" needs the explanation; the refusals are Chinese, show no codes and write nothing."""
    claim = submit_claim(program)
    client = _client(reviewer)
    url = reverse("admin:claims_claim_change", args=[claim.pk])
    page = client.get(url).content.decode()
    assert (
        'data-confirm="确定不予通过？' in page and "onclick" not in page
    )  # asked only once the form is valid
    events = ClaimEvent.objects.count()
    for post, message in (
        ({"action": "reject", "reason": "看着不对"}, "请选择不予通过原因"),
        ({"action": "reject", "reason_code": "other"}, "选择“其他原因”时须填写说明"),
        ({"action": "return", "reason": "看不清", "documents": ["invoice"]}, "请选择退回原因"),
        (
            {"action": "return", "reason_code": "other", "documents": ["invoice"]},
            "选择“其他原因”时须填写说明",
        ),
    ):
        page = client.post(url, post, follow=True).content.decode()
        assert message in page, post
        assert "reason_code_required" not in page and "reason_required" not in page
    claim.refresh_from_db()
    assert claim.status == "under_review" and ClaimEvent.objects.count() == events
    client.post(url, {"action": "reject", "reason_code": "other", "reason": "发票抬头为单位"})
    claim.refresh_from_db()
    assert claim.status == "rejected" and claim.reject_reason == "发票抬头为单位"
