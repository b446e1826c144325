from decimal import Decimal

from django.core.management import call_command

from tests.factories import claim_payload, document_files


def test_submit_and_lookup(client, program):
    payload = claim_payload(program.code)
    r = client.post("/api/v1/claims/", {**payload, **document_files()})
    assert r.status_code == 201, r.json()
    body = r.json()
    assert body["status"] == "under_review"
    assert body["subsidy_amount"] == "6000.00"
    assert body["queue_position"] is None
    program.refresh_from_db()
    assert program.reserved == Decimal("6000.00")
    r = client.post(
        "/api/v1/claims/lookup/",
        {"claim_number": body["claim_number"], "id_number": payload["id_number"]},
        content_type="application/json",
    )
    assert r.status_code == 200
    assert r.json()["events"][0]["status"] == "under_review"
    call_command("check_budget", program.code)
