"""The buyers' pages around the launch: notice wording of the tiers, the page before the window opens, staged
documents through the plain form post, the explained amount."""

import datetime as dt

from django.utils import timezone

from claims.models import Claim
from tests.factories import claim_payload, document_files, make_program


def test_tier_bands_are_worded_as_the_notice(client, program):
    body = client.get(f"/p/{program.code}/").content.decode()
    assert "2万元（不含）以上至5万元（含）" in body
    assert "20万元（不含）以上" in body
    assert "以上至 ¥" not in body


def test_before_the_window_the_form_is_ready_with_a_countdown(client, db):
    program = make_program("soon-car")
    program.claim_window_start = timezone.localdate() + dt.timedelta(days=2)
    program.save()
    detail = client.get(f"/p/{program.code}/").content.decode()
    assert 'id="prepare-link"' in detail
    body = client.get(f"/p/{program.code}/apply/").content.decode()
    assert 'id="launch-box"' in body and 'id="countdown"' in body and "data-opens-at=" in body
    assert 'id="submit-btn" disabled' in body
    assert 'data-check-url="/api/v1/claims/check/"' in body and 'data-upload-url="/api/v1/uploads/"' in body
    assert 'capture="' not in body


def test_plain_form_post_with_staged_documents(client, program):
    ids = {}
    for kind, upload in document_files().items():
        ids[f"{kind}_upload"] = client.post("/api/v1/uploads/", {"kind": kind, "file": upload}).json()[
            "upload_id"
        ]
    data = {**claim_payload(program.code), **ids, "declaration": "1"}
    r = client.post(f"/p/{program.code}/apply/", data)
    assert r.status_code == 302, r.content.decode()[:2000]
    claim = Claim.objects.get()
    assert claim.documents.count() == 5
    detail = client.get(f"/claim/{claim.claim_number}/").content.decode()
    assert "10万元（不含）以上至20万元（含）" in detail and "¥158,000.00" in detail
    assert claim.program_version[:12] in detail


def test_staged_ids_survive_an_error_rerender(client, program):
    upload = client.post("/api/v1/uploads/", {"kind": "invoice", "file": document_files()["invoice"]}).json()
    data = {
        **claim_payload(program.code, vin="BAD"),
        "invoice_upload": upload["upload_id"],
        "declaration": "1",
    }
    r = client.post(f"/p/{program.code}/apply/", data)
    assert r.status_code == 400
    assert f'value="{upload["upload_id"]}"' in r.content.decode()
    assert not Claim.objects.exists()
