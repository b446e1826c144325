"""Staff API: role matrix, decisions, transitions, budget effects, audit rows."""

from __future__ import annotations

import threading
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connections
from rest_framework.test import APIClient

from claims.models import AuditLog, Claim, ClaimEvent, LedgerEntry
from claims.programs.budget import budget_recompute
from conftest import token_client
from tests.factories import make_program, make_staff, open_claim, submit_claim

pytestmark = pytest.mark.django_db

STAFF = "/api/v1/staff/claims/"


@pytest.fixture
def claim(program):
    return submit_claim(program)


@pytest.fixture
def clients(reviewer, finance, auditor):
    return {
        "anonymous": APIClient(),
        "reviewer": token_client(reviewer),
        "finance": token_client(finance),
        "auditor": token_client(auditor),
        "norole": token_client(_no_role_user()),
    }


def _no_role_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("plain", password="pass-word-123", is_staff=True)


READS = ["list", "detail", "document", "reasons"]
DECISIONS = ["approve", "reject", "return"]
EXPECTED = {
    "anonymous": {**dict.fromkeys(READS, 401), **dict.fromkeys(DECISIONS, 401)},
    "norole": {**dict.fromkeys(READS, 403), **dict.fromkeys(DECISIONS, 403)},
    "finance": {**dict.fromkeys(READS, 200), **dict.fromkeys(DECISIONS, 403)},
    "auditor": {**dict.fromkeys(READS, 200), **dict.fromkeys(DECISIONS, 403)},
    "reviewer": {**dict.fromkeys(READS, 200), **dict.fromkeys(DECISIONS, 200)},
}


def _call(client, action: str, claim: Claim):
    n = claim.claim_number
    if action == "list":
        return client.get(STAFF)
    if action == "detail":
        return client.get(f"{STAFF}{n}/")
    if action == "document":
        return client.get(f"/api/v1/staff/documents/{claim.documents.get(kind='invoice').pk}/")
    if action == "reasons":
        return client.get("/api/v1/staff/reasons/")
    body = {
        "approve": {"note": "ok"},
        "reject": {"reason": "发票不符"},
        "return": {"reason": "照片不清", "documents": ["invoice"]},
    }[action]
    client.get(f"{STAFF}{n}/")  # a reviewer decides only a claim they opened
    return client.post(f"{STAFF}{n}/{action}/", body, format="json")


@pytest.mark.parametrize("role", list(EXPECTED))
@pytest.mark.parametrize("action", READS + DECISIONS)
def test_role_action_matrix(program, clients, role, action):
    claim = submit_claim(program)
    response = _call(clients[role], action, claim)
    expected = EXPECTED[role][action]
    assert response.status_code == expected, (role, action, getattr(response, "content", b"")[:300])
    if expected >= 400:
        body = response.json()
        assert body["code"] in {"not_authenticated", "permission_denied"}
        assert body["message"]
        claim.refresh_from_db()
        assert claim.status == "under_review"  # a refusal writes nothing
    if action in DECISIONS and expected == 200:
        claim.refresh_from_db()
        assert claim.status == {"approve": "approved", "reject": "rejected", "return": "returned"}[action]


def test_token_endpoint_and_use(client, reviewer):
    r = client.post(
        "/api/v1/auth/token/",
        {"username": "reviewer1", "password": "pass-word-123"},
        content_type="application/json",
    )
    assert r.status_code == 200
    token = r.json()["token"]
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api.get(STAFF).status_code == 200
    assert AuditLog.objects.filter(action="api_token_issued", actor=reviewer).exists()


def test_token_wrong_password_is_refused_with_code(client, reviewer):
    r = client.post(
        "/api/v1/auth/token/", {"username": "reviewer1", "password": "wrong"}, content_type="application/json"
    )
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_credentials"


def test_bad_token_is_401(claim):
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION="Token not-a-token")
    r = api.get(STAFF)
    assert r.status_code == 401
    assert r.json()["code"] == "authentication_failed"


def test_approve_records_decision_event_and_audit(program, reviewer):
    claim = submit_claim(program)
    open_claim(reviewer, claim)
    r = token_client(reviewer).post(
        f"{STAFF}{claim.claim_number}/approve/", {"note": "材料齐全"}, format="json"
    )
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "approved"
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.decided_by == reviewer and claim.decided_at
    event = ClaimEvent.objects.filter(claim=claim).last()
    assert event.to_status == "approved" and event.actor == reviewer and event.data == {"note": "材料齐全"}
    assert AuditLog.objects.filter(action="claim_approved", claim=claim, actor=reviewer).exists()
    program.refresh_from_db()
    assert program.reserved == Decimal("6000.00")  # still reserved until paid


def test_approve_queues_payout_after_commit(
    program, reviewer, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(
        "claims.review.services.payout_enqueue_for_claim", lambda claim_id: calls.append(claim_id)
    )
    claim = submit_claim(program)
    open_claim(reviewer, claim)
    with django_capture_on_commit_callbacks(execute=True):
        r = token_client(reviewer).post(f"{STAFF}{claim.claim_number}/approve/", {}, format="json")
    assert r.status_code == 200
    assert calls == [claim.pk]


def test_reject_releases_money_and_promotes_waitlist(reviewer):
    program = make_program("small", budget="6000.00")
    first = submit_claim(program)
    waiting = submit_claim(program)
    assert waiting.status == "waitlisted"
    open_claim(reviewer, first)
    r = token_client(reviewer).post(
        f"{STAFF}{first.claim_number}/reject/",
        {"reason_code": "buyer_mismatch", "reason": "发票购买方为他人"},
        format="json",
    )
    assert r.status_code == 200, r.json()
    body = r.json()
    assert body["status"] == "rejected"
    first.refresh_from_db()
    waiting.refresh_from_db()
    assert first.status == "rejected"
    assert (
        first.reject_reason.startswith("申请人与购车发票上的购买方不一致")
        and "发票购买方为他人" in first.reject_reason
    )
    assert waiting.status == "under_review"
    program.refresh_from_db()
    assert program.reserved == Decimal("6000.00")
    assert budget_recompute(program).ok
    event = ClaimEvent.objects.filter(claim=first).last()
    assert event.reason_code == "buyer_mismatch" and "发票购买方为他人" in event.reason
    audit = AuditLog.objects.get(action="claim_rejected", claim=first)
    assert audit.detail["promoted"] == [waiting.claim_number]


def test_return_sets_deadline_and_tells_the_applicant(client, program, reviewer):
    from django.utils import timezone

    from tests.factories import claim_payload

    payload = claim_payload(program.code)
    from claims.intake.services import claim_submit
    from tests.factories import document_files

    claim = claim_submit(program.code, payload, document_files()).claim
    r = token_client(reviewer).post(
        f"{STAFF}{claim.claim_number}/return/",
        {
            "reason_code": "document_unclear",
            "reason": "发票照片模糊",
            "fields": ["invoice_amount"],
            "documents": ["invoice"],
            "note": "内部：疑似改过金额",
        },
        format="json",
    )
    assert r.status_code == 200, r.json()
    claim.refresh_from_db()
    assert claim.status == "returned"
    assert claim.correction_deadline == timezone.localdate() + timezone.timedelta(
        days=program.correction_days
    )
    assert claim.returned_fields == ["invoice_amount"] and claim.returned_documents == ["invoice"]
    # What the applicant sees: the reason and what to fix, never the internal note.
    r = client.post(
        "/api/v1/claims/lookup/",
        {"claim_number": claim.claim_number, "id_number": payload["id_number"]},
        content_type="application/json",
    )
    body = r.json()
    assert body["status"] == "returned"
    assert "发票照片模糊" in body["returned"]["reason"]
    assert body["returned"]["fields"] == ["invoice_amount"] and body["returned"]["documents"] == ["invoice"]
    assert body["returned"]["deadline"] == claim.correction_deadline.isoformat()
    assert "疑似" not in str(body)
    program.refresh_from_db()
    assert program.reserved == Decimal("6000.00")  # stays reserved


@pytest.mark.parametrize(
    "body,code",
    [
        ({}, "reason_required"),
        ({"reason_code": "nope"}, "invalid_reason_code"),
        ({"reason": "x", "fields": ["id_number"]}, "invalid_field_name"),
        ({"reason": "x", "documents": ["selfie"]}, "invalid_field_name"),
    ],
)
def test_return_refusals_write_nothing(claim, reviewer, body, code):
    events = ClaimEvent.objects.count()
    r = token_client(reviewer).post(f"{STAFF}{claim.claim_number}/return/", body, format="json")
    assert r.status_code == 400 and r.json()["code"] == code
    claim.refresh_from_db()
    assert claim.status == "under_review" and ClaimEvent.objects.count() == events
    assert not AuditLog.objects.filter(action="claim_returned").exists()


def test_reject_with_standard_code_given_as_reason(claim, reviewer):
    open_claim(reviewer, claim)
    r = token_client(reviewer).post(
        f"{STAFF}{claim.claim_number}/reject/", {"reason": "invoice_invalid"}, format="json"
    )
    assert r.status_code == 200
    claim.refresh_from_db()
    assert claim.reject_reason == "购车发票真伪查验未通过"


@pytest.mark.parametrize(
    "setup,action,expected",
    [
        (["approve"], "approve", 409),
        (["approve"], "reject", 409),
        (["approve"], "return", 409),
        (["reject"], "approve", 409),
        (["reject"], "return", 409),
        (["return"], "approve", 409),
        (["return"], "return", 409),
        (["return"], "reject", 200),  # a returned claim may still be refused
        ([], "return", 200),
    ],
)
def test_allowed_and_refused_transitions(claim, reviewer, setup, action, expected):
    api = token_client(reviewer)
    for step in setup:
        assert _call(api, step, claim).status_code == 200
    before = ClaimEvent.objects.count()
    r = _call(api, action, claim)
    assert r.status_code == expected, r.json()
    if expected == 409:
        assert r.json()["code"] == "invalid_transition"
        assert ClaimEvent.objects.count() == before


def test_waitlisted_claim_cannot_be_approved(reviewer):
    program = make_program("tiny", budget="6000.00")
    submit_claim(program)
    waiting = submit_claim(program)
    r = _call(token_client(reviewer), "approve", waiting)
    assert r.status_code == 409
    waiting.refresh_from_db()
    assert waiting.status == "waitlisted"


def test_unknown_claim_is_404(reviewer):
    api = token_client(reviewer)
    assert api.get(f"{STAFF}NOPE-000001/").status_code == 404
    r = api.post(f"{STAFF}NOPE-000001/approve/", {}, format="json")
    assert r.status_code == 404 and r.json()["code"] == "claim_not_found"


# --- List -------------------------------------------------------------------------------------------------------


def test_list_arrival_order_filters_and_pages(reviewer):
    program = make_program("listing", budget="20000.00")
    claims = [submit_claim(program, fuel_type="fuel" if i % 2 else "nev") for i in range(5)]
    api = token_client(reviewer)
    r = api.get(STAFF, {"page_size": 2})
    body = r.json()
    assert [c["claim_number"] for c in body["results"]] == [c.claim_number for c in claims[:2]]
    assert body["next"] and body["previous"] is None
    assert "count" not in body
    page3 = api.get(STAFF, {"page_size": 2, "page": 3}).json()
    assert [c["claim_number"] for c in page3["results"]] == [claims[4].claim_number] and page3["next"] is None
    statuses = {c.claim_number: c.status for c in claims}
    waitlisted = [n for n, s in statuses.items() if s == "waitlisted"]
    r = api.get(STAFF, {"status": "waitlisted"}).json()
    assert [c["claim_number"] for c in r["results"]] == waitlisted
    r = api.get(STAFF, {"fuel_type": "fuel"}).json()
    assert {c["claim_number"] for c in r["results"]} == {claims[1].claim_number, claims[3].claim_number}
    r = api.get(STAFF, {"tier": "3"}).json()
    assert len(r["results"]) == 5
    r = api.get(STAFF, {"dealer": claims[0].dealer_credit_code}).json()
    assert len(r["results"]) == 5
    assert api.get(STAFF, {"dealer": "91141182000000000X"}).json()["results"] == []
    row = api.get(STAFF, {"q": claims[2].vin}).json()["results"]
    assert [c["claim_number"] for c in row] == [claims[2].claim_number]
    assert "*" in row[0]["id_number"]  # lists are masked for every role


def test_list_filter_by_failing_check(program, reviewer):
    from claims.models import ClaimCheck

    good, bad = submit_claim(program), submit_claim(program)
    ClaimCheck.objects.update_or_create(
        claim=bad, code="vin_matches_invoice", defaults={"result": "fail", "detail": "发票车架号不符"}
    )
    ClaimCheck.objects.update_or_create(claim=good, code="vin_matches_invoice", defaults={"result": "pass"})
    r = token_client(reviewer).get(STAFF, {"failing_check": "vin_matches_invoice"}).json()
    assert [c["claim_number"] for c in r["results"]] == [bad.claim_number]
    assert "vin_matches_invoice" in r["results"][0]["failed_checks"]


def test_list_query_count_is_bounded(program, reviewer, django_assert_max_num_queries):
    for _ in range(12):
        submit_claim(program)
    api = token_client(reviewer)
    with django_assert_max_num_queries(8):
        r = api.get(STAFF, {"page_size": 10})
    assert len(r.json()["results"]) == 10


# --- Detail and PII ---------------------------------------------------------------------------------------------


def test_detail_shape_and_unmasked_pii_for_reviewer_is_audited(program, reviewer):
    from claims.intake.services import claim_after_documents_change

    claim = submit_claim(program)
    claim_after_documents_change(claim.pk)
    r = token_client(reviewer).get(f"{STAFF}{claim.claim_number}/")
    assert r.status_code == 200
    body = r.json()
    assert body["id_number"] == claim.id_number and body["bank_account"] == claim.bank_account
    assert body["pii_masked"] is False
    assert body["invoice_amount"] == "158000.00" and body["subsidy_amount"] == "6000.00"
    assert set(body["ocr"]) == {"invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip"}
    assert {c["code"] for c in body["checks"]} >= {"plate_matches_fuel_type", "bank_account_checksum"}
    assert all(
        set(c) == {"code", "result", "detail"} and c["result"] in ("pass", "fail", "unknown")
        for c in body["checks"]
    )
    assert body["events"][0]["status"] == "under_review"
    assert len(body["documents"]) == 5 and body["documents"][0]["url"].startswith(
        "http://testserver/api/v1/staff/documents/"
    )
    audit = AuditLog.objects.get(action="pii_view", claim=claim)
    assert audit.actor == reviewer and audit.ip_address == "127.0.0.1"
    assert claim.id_number not in str(audit.detail)


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_detail_is_masked_for_other_roles_and_not_audited_as_pii(program, role, request):
    user = request.getfixturevalue(role)
    claim = submit_claim(program)
    body = token_client(user).get(f"{STAFF}{claim.claim_number}/").json()
    assert body["pii_masked"] is True
    assert body["id_number"] == claim.id_number_masked and claim.id_number not in str(body)
    assert body["bank_account"] == claim.bank_account_masked and claim.bank_account not in str(body)
    assert not AuditLog.objects.filter(action="pii_view").exists()


def test_detail_ocr_is_null_per_document_when_the_ocr_summary_fails(program, reviewer, monkeypatch):
    def broken(claim):
        raise RuntimeError("OCR summary unavailable")

    monkeypatch.setattr("claims.review.selectors.claim_ocr_summary", broken)
    claim = submit_claim(program)
    body = token_client(reviewer).get(f"{STAFF}{claim.claim_number}/").json()
    assert body["ocr"] == dict.fromkeys(
        ["invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip"]
    )


def test_document_view_serves_the_file_and_audits(program, auditor):
    claim = submit_claim(program)
    document = claim.documents.get(kind="invoice")
    r = token_client(auditor).get(f"/api/v1/staff/documents/{document.pk}/")
    assert r.status_code == 200
    assert r["Content-Type"] == "image/png" and r["Cache-Control"] == "private, no-store"
    assert r["Content-Security-Policy"].startswith("sandbox")  # a stored PDF shown inline runs nothing
    assert b"".join(r.streaming_content).startswith(b"\x89PNG")
    audit = AuditLog.objects.get(action="document_view")
    assert audit.claim == claim and audit.actor == auditor and audit.detail == {"kind": "invoice"}
    assert token_client(auditor).get("/api/v1/staff/documents/999999/").status_code == 404


# --- Concurrency ------------------------------------------------------------------------------------------------


def _race(actions: list[tuple[str, dict]], claim_number: str) -> list[tuple[int, dict]]:
    barrier = threading.Barrier(len(actions))
    results: list = [None] * len(actions)

    def run(i, user, action, body):
        try:
            api = token_client(user)
            barrier.wait(timeout=30)
            r = api.post(f"{STAFF}{claim_number}/{action}/", body, format="json")
            results[i] = (r.status_code, r.json())
        finally:
            connections.close_all()

    users = [make_staff(f"racer{i}", "reviewer") for i in range(len(actions))]
    threads = [
        threading.Thread(target=run, args=(i, users[i], action, body))
        for i, (action, body) in enumerate(actions)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_approve_and_reject_give_one_decision(postgres_only, attempt):
    program = make_program(f"race-{attempt}", budget="12000.00")
    claim = submit_claim(program)
    waiting = [submit_claim(program), submit_claim(program)]
    results = _race([("approve", {"note": "a"}), ("reject", {"reason": "b"})], claim.claim_number)
    codes = sorted(code for code, _body in results)
    assert codes == [200, 409], results
    loser = next(body for code, body in results if code == 409)
    assert loser["code"] == "invalid_transition"
    claim.refresh_from_db()
    assert claim.status in ("approved", "rejected")
    decisions = ClaimEvent.objects.filter(claim=claim, to_status__in=["approved", "rejected"])
    assert decisions.count() == 1
    assert AuditLog.objects.filter(claim=claim, action__in=["claim_approved", "claim_rejected"]).count() == 1
    program.refresh_from_db()
    assert budget_recompute(program).ok
    if claim.status == "rejected":
        assert Claim.objects.get(pk=waiting[1].pk).status == "under_review"
    call_command("check_budget", program.code)


@pytest.mark.django_db(transaction=True)
def test_two_reviewers_approving_at_once(postgres_only):
    program = make_program("race-approve")
    claim = submit_claim(program)
    results = _race([("approve", {}), ("approve", {})], claim.claim_number)
    assert sorted(code for code, _ in results) == [200, 409]
    assert LedgerEntry.objects.filter(claim=claim).count() == 1  # only the original reservation
