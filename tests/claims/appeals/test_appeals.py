"""Appeals through the public and staff API: windows, once only, same_person, and the original place in the queue."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from claims.appeals import services as appeal_services
from claims.models import AuditLog, Claim
from claims.programs.budget import budget_recompute
from conftest import token_client
from tests.claims.notifications.helpers import outbox_lines
from tests.factories import claim_payload, document_files, make_program, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def _submit(client, program) -> dict:
    payload = claim_payload(program.code)
    r = client.post("/api/v1/claims/", {**payload, **document_files()})
    assert r.status_code == 201, r.json()
    return {**r.json(), "id_number": payload["id_number"]}


def _reject(staff, number):
    r = staff.post(f"/api/v1/staff/claims/{number}/reject/", {"reason_code": "buyer_mismatch"}, format="json")
    assert r.status_code == 200, r.json()


def _appeal(client, claim, reason="发票购买方信息已更正，请复核", **files):
    return client.post(
        f"/api/v1/claims/{claim['claim_number']}/appeal/",
        {"id_number": claim["id_number"], "reason": reason, **files},
    )


def _decide(staff, number, decision, note=""):
    return staff.post(
        f"/api/v1/staff/claims/{number}/appeal-decision/", {"decision": decision, "note": note}, format="json"
    )


def _status(number) -> str:
    return Claim.objects.get(claim_number=number).status


def _position(client, claim):
    r = client.post(
        "/api/v1/claims/lookup/",
        {"claim_number": claim["claim_number"], "id_number": claim["id_number"]},
        content_type="application/json",
    )
    return r.json()["status"], r.json()["queue_position"]


@pytest.fixture
def reviewers(db):
    return make_staff("appeal-r1", "reviewer"), make_staff("appeal-r2", "reviewer")


def test_an_upheld_appeal_lands_at_its_original_place_while_later_claims_wait(client, reviewers):
    program = make_program("appeal-queue", budget="12000.00")  # two claims of 6000.00 fit
    first_reviewer, second_reviewer = (token_client(r) for r in reviewers)
    c1, c2, c3, c4 = (_submit(client, program) for _ in range(4))
    assert [c["status"] for c in (c1, c2, c3, c4)] == [
        "under_review",
        "under_review",
        "waitlisted",
        "waitlisted",
    ]

    _reject(first_reviewer, c1["claim_number"])  # money released: c3 moves up
    assert _status(c3["claim_number"]) == "under_review"
    r = _appeal(client, c1, invoice=document_files("new")["invoice"])
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "appealed" and r.json()["appeal"]["documents"] == ["invoice"]

    r = _decide(second_reviewer, c1["claim_number"], "upheld", "购买方信息核实无误")
    assert r.status_code == 200, r.json()
    # No money left: back on the waitlist, but at its own number, ahead of the later c4.
    assert _position(client, c1) == ("waitlisted", 1)
    assert _position(client, c4) == ("waitlisted", 2)

    _reject(first_reviewer, c2["claim_number"])  # 6000.00 released: the upheld claim is promoted, not c4
    assert _status(c1["claim_number"]) == "under_review"
    assert _position(client, c4) == ("waitlisted", 1)
    assert budget_recompute(program).ok

    events = [x["event"] for x in outbox_lines(claim_number=c1["claim_number"])]
    assert events == ["under_review", "rejected", "appealed", "appeal_upheld", "promoted"]
    actions = set(
        AuditLog.objects.filter(claim__claim_number=c1["claim_number"]).values_list("action", flat=True)
    )
    assert {"claim_rejected", "claim_appealed", "appeal_upheld"} <= actions


def test_an_upheld_appeal_goes_straight_to_review_when_the_money_covers_it(client, reviewers):
    program = make_program("appeal-direct")
    first_reviewer, second_reviewer = (token_client(r) for r in reviewers)
    claim = _submit(client, program)
    _reject(first_reviewer, claim["claim_number"])
    assert _appeal(client, claim).status_code == 200
    assert _decide(second_reviewer, claim["claim_number"], "upheld").status_code == 200
    assert _status(claim["claim_number"]) == "under_review"
    assert Claim.objects.get(claim_number=claim["claim_number"]).seq == 1
    assert budget_recompute(program).ok


def test_the_rejecting_reviewer_cannot_decide_the_appeal_and_a_dismissal_is_final(client, reviewers):
    program = make_program("appeal-same")
    first_reviewer, second_reviewer = (token_client(r) for r in reviewers)
    claim = _submit(client, program)
    _reject(first_reviewer, claim["claim_number"])
    assert _appeal(client, claim).status_code == 200

    r = _decide(first_reviewer, claim["claim_number"], "upheld")
    assert r.status_code == 403 and r.json()["code"] == "same_person"
    assert _decide(second_reviewer, claim["claim_number"], "dismissed").json()["code"] == "reason_required"
    assert _decide(second_reviewer, claim["claim_number"], "maybe").status_code == 400
    r = _decide(second_reviewer, claim["claim_number"], "dismissed", "购买方与申请人确不一致")
    assert r.status_code == 200, r.json()
    assert _status(claim["claim_number"]) == "rejected"

    again = _appeal(client, claim)
    assert again.status_code == 409 and again.json()["code"] == "appeal_not_allowed"
    assert _decide(second_reviewer, claim["claim_number"], "upheld").status_code == 409
    last = outbox_lines(claim_number=claim["claim_number"])[-1]
    assert last["event"] == "appeal_dismissed" and "购买方与申请人确不一致" in last["text"]


def test_appeals_only_while_rejected_within_the_window_and_with_the_right_id(client, reviewers, monkeypatch):
    program = make_program("appeal-window", appeal_days=5)
    first_reviewer = token_client(reviewers[0])
    claim = _submit(client, program)
    r = _appeal(client, claim)
    assert r.status_code == 409 and r.json()["code"] == "appeal_not_allowed"  # not rejected
    _reject(first_reviewer, claim["claim_number"])

    wrong = client.post(
        f"/api/v1/claims/{claim['claim_number']}/appeal/", {"id_number": "11010519491231002X", "reason": "x"}
    )
    assert wrong.status_code == 404
    assert _appeal(client, claim, reason=" ").json()["code"] == "reason_required"

    class Clock:  # the sixth day after the rejection
        def __init__(self, today):
            self.today = today

        def localdate(self, value=None):
            return self.today if value is None else timezone.localdate(value)

        def now(self):
            return timezone.now()

    monkeypatch.setattr(appeal_services, "timezone", Clock(timezone.localdate() + dt.timedelta(days=6)))
    late = _appeal(client, claim)
    assert late.status_code == 409 and late.json()["code"] == "appeal_not_allowed"
    monkeypatch.setattr(appeal_services, "timezone", Clock(timezone.localdate() + dt.timedelta(days=5)))
    assert _appeal(client, claim).status_code == 200  # the last day still counts


def test_a_bad_appeal_file_is_refused_and_writes_nothing(client, reviewers):
    from django.core.files.uploadedfile import SimpleUploadedFile

    program = make_program("appeal-file")
    claim = _submit(client, program)
    _reject(token_client(reviewers[0]), claim["claim_number"])
    bad = SimpleUploadedFile("x.png", b"not an image", content_type="image/png")
    r = _appeal(client, claim, invoice=bad)
    assert r.status_code == 400 and r.json()["code"] == "invalid_file"
    assert _status(claim["claim_number"]) == "rejected"


def test_only_reviewers_decide_appeals(client, reviewers):
    program = make_program("appeal-role")
    claim = _submit(client, program)
    finance = token_client(make_staff("appeal-finance", "finance"))
    assert _decide(finance, claim["claim_number"], "upheld").status_code == 403


def test_reviewers_decide_appeals_in_the_admin_review_page(client, reviewers):
    program = make_program("appeal-admin")
    first, second = reviewers
    claim = _submit(client, program)
    _reject(token_client(first), claim["claim_number"])
    assert _appeal(client, claim).status_code == 200
    pk = Claim.objects.get(claim_number=claim["claim_number"]).pk
    url = reverse("admin:claims_claim_change", args=[pk])

    rejecter = Client()
    rejecter.force_login(first)
    page = rejecter.get(url).content.decode()
    assert (
        "发票购买方信息已更正" in page
        and 'id="appeal-same-person"' in page
        and 'id="appeal-form"' not in page
    )
    rejecter.post(url, {"action": "appeal", "decision": "upheld"})
    assert _status(claim["claim_number"]) == "appealed"  # refused: same_person

    other = Client()
    other.force_login(second)
    assert 'id="appeal-form"' in other.get(url).content.decode()
    r = other.post(url, {"action": "appeal", "decision": "upheld", "note": "核实无误"})
    assert r.status_code == 302
    assert _status(claim["claim_number"]) == "under_review"
    assert "申诉成立" in other.get(url).content.decode()
