"""The buyers' pages for appeals and the claim-number recovery, as plain forms (no JavaScript)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from claims.models import Claim
from claims.review.services import claim_reject
from tests.claims.notifications.helpers import outbox_lines
from tests.factories import claim_payload, document_files, make_program, make_staff

pytestmark = pytest.mark.django_db(transaction=True)


def _claim(client, program):
    payload = claim_payload(program.code)
    r = client.post("/api/v1/claims/", {**payload, **document_files()})
    assert r.status_code == 201
    return r.json()["claim_number"], payload


def _login(client, number, id_number):
    r = client.post(reverse("web:lookup"), {"claim_number": number, "id_number": id_number})
    assert r.status_code == 302


def test_the_applicant_appeals_from_my_claim_and_sees_the_outcome(client):
    program = make_program("web-appeal")
    number, payload = _claim(client, program)
    claim_reject(number, actor=make_staff("web-appeal-r1", "reviewer"), reason_code="buyer_mismatch")
    _login(client, number, payload["id_number"])
    page = client.get(reverse("web:claim", args=[number])).content.decode()
    assert reverse("web:appeal", args=[number]) in page and "提出申诉" in page

    form = client.get(reverse("web:appeal", args=[number])).content.decode()
    assert 'enctype="multipart/form-data"' in form and 'name="reason"' in form
    r = client.post(reverse("web:appeal", args=[number]), {"reason": ""})
    assert r.status_code == 400 and "请填写申诉理由" in r.content.decode()
    r = client.post(
        reverse("web:appeal", args=[number]),
        {"reason": "发票购买方已更正", "invoice": document_files("w")["invoice"]},
    )
    assert r.status_code == 302
    assert Claim.objects.get(claim_number=number).status == "appealed"
    page = client.get(reverse("web:claim", args=[number])).content.decode()
    assert "发票购买方已更正" in page and "复核中" in page
    assert reverse("web:appeal", args=[number]) not in page  # once only


def test_recovering_the_claim_number_never_shows_it(client):
    program = make_program("web-recover")
    number, payload = _claim(client, program)
    assert reverse("web:recover") in client.get(reverse("web:lookup")).content.decode()
    r = client.post(reverse("web:recover"), {"id_number": payload["id_number"], "phone": payload["phone"]})
    other = client.post(reverse("web:recover"), {"id_number": payload["id_number"], "phone": "13900000000"})
    assert r.status_code == other.status_code == 200
    assert number not in r.content.decode()
    assert "短信" in r.content.decode()
    assert [x["event"] for x in outbox_lines(claim_number=number)] == ["under_review", "claim_number"]
    bad = client.post(reverse("web:recover"), {"id_number": "1", "phone": "2"})
    assert bad.status_code == 400 and "身份证" in bad.content.decode()
