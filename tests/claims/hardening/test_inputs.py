"""Every input bounded: money, control characters, URL parameters, bodies; generated bad input never gets a 5xx."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from claims.models import Claim, IdempotencyRecord
from claims.money import parse_amount, parse_money
from conftest import token_client
from tests.factories import claim_payload, document_files, make_program, make_staff, submit_claim

BAD_AMOUNTS = [
    "1e400",
    "1E+20",
    "1e20",
    "100000000000.00",
    "12345678901",
    "NaN",
    "Infinity",
    "-inf",
    "0",
    "0.00",
    "-5",
    "1.234",
    "12..3",
    "",
    " ",
    "abc",
    "1_000",
    "٣٠٠٠",
    "9" * 500,
]


@pytest.mark.parametrize("raw", ["158000", "158000.5", "158,000.00", "¥ 9999999999.99", "0.01"])
def test_money_parser_accepts_bounded_decimals(raw):
    assert parse_amount(raw) is not None


@pytest.mark.parametrize("raw", BAD_AMOUNTS)
def test_money_parser_refuses_everything_else(raw):
    assert parse_amount(raw) is None


def test_money_parser_keeps_the_sign_and_zero_for_program_files():
    assert parse_money("0") == Decimal("0.00") and parse_money("-1.5") == Decimal("-1.50")


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["1e400", "100000000000.00", "0", "-1", "NaN", "1.001"])
def test_quote_api_and_calculator_refuse_bad_amounts(client, program, raw):
    r = client.get(f"/api/v1/programs/{program.code}/quote", {"invoice_amount": raw, "fuel_type": "nev"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_amount"
    r = client.get(f"/p/{program.code}/", {"invoice_amount": raw, "fuel_type": "nev"})
    assert r.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("raw", ["1e20", "100000000000.00", "1e400"])
def test_submission_refuses_unbounded_invoice_amounts(client, program, raw):
    r = client.post(
        "/api/v1/claims/", {**claim_payload(program.code, invoice_amount=raw), **document_files()}
    )
    assert r.status_code == 400 and r.json()["fields"]["invoice_amount"][0]["code"] == "invalid_amount"
    assert not Claim.objects.exists()


@pytest.mark.django_db
def test_nul_in_a_text_field_is_invalid_input_with_the_field(client, program):
    r = client.post(
        "/api/v1/claims/", {**claim_payload(program.code, applicant_name="张\x00三"), **document_files()}
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    assert "applicant_name" in r.json()["fields"]
    r = client.post("/api/v1/claims/lookup/", {"claim_number": "A\x00", "id_number": "1"}, "application/json")
    assert r.status_code == 400 and "claim_number" in r.json()["fields"]
    assert not Claim.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["\x00", "a\x00b", "key\r\n", "\x7f"])
def test_control_characters_in_the_idempotency_key_are_invalid_input(client, program, key):
    r = client.post(
        "/api/v1/claims/",
        {**claim_payload(program.code), **document_files()},
        headers={"Idempotency-Key": key},
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"
    assert "Idempotency-Key" in r.json()["fields"]
    assert not Claim.objects.exists() and not IdempotencyRecord.objects.exists()


@pytest.mark.django_db
def test_nul_in_urls_and_query_strings(client, program):
    assert (
        client.get(f"/api/v1/programs/{program.code}/quote", {"invoice_amount": "1\x00"}).status_code == 400
    )
    assert client.get("/claim/A%00B/").status_code == 400
    assert client.get("/api/v1/programs/x%00/").status_code == 400


@pytest.mark.django_db
def test_a_file_where_text_is_expected(client, program):
    claim = submit_claim(program)
    r = client.post(
        f"/api/v1/claims/{claim.claim_number}/correct/",
        {"id_number": SimpleUploadedFile("id.txt", b"110101199001011234")},
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_input" and "id_number" in r.json()["fields"]


@pytest.mark.django_db
def test_broken_bodies_get_a_400_with_a_code(client, program):
    r = client.post("/api/v1/claims/lookup/", b"{not json", content_type="application/json")
    assert r.status_code == 400 and r.json()["code"]
    r = client.post(
        "/api/v1/claims/",
        b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\nb',
        content_type="multipart/form-data; boundary=x",
    )
    assert 400 <= r.status_code < 500 and r.json()["code"]
    r = client.post("/api/v1/claims/", b"garbage", content_type="multipart/form-data")  # no boundary
    assert r.status_code == 400 and r.json()["code"]
    r = client.post("/api/v1/claims/lookup/", b"<a/>", content_type="application/xml")
    assert 400 <= r.status_code < 500 and r.json()["code"]


@pytest.mark.django_db
def test_admin_object_ids_that_are_not_numbers_are_404(client, reviewer):
    client.force_login(reviewer)
    assert client.get("/admin/claims/claim/abc/change/").status_code == 404
    assert client.get("/admin/claims/claim/99999999999999999999999/change/").status_code == 404


# --- Generated bad input: no endpoint answers 5xx -------------------------------------------------------------

JUNK = st.one_of(
    st.text(max_size=40),
    st.sampled_from(
        BAD_AMOUNTS + ["\x00", "<script>", "' OR 1=1 --", "../../etc/passwd", "%00", "\ud7ff" * 3]
    ),
)
PUBLIC_FIELDS = [
    "program",
    "applicant_name",
    "id_number",
    "phone",
    "fuel_type",
    "vin",
    "invoice_amount",
    "invoice_date",
    "pos_amount",
    "bank_account",
    "claim_number",
    "phone_last4",
]


def _endpoints(world):
    n, code = world["claim"].claim_number, world["program"].code
    public = [
        ("post", "/api/v1/claims/"),
        ("post", "/api/v1/claims/lookup/"),
        ("post", f"/api/v1/claims/{n}/withdraw/"),
        ("post", f"/api/v1/claims/{n}/correct/"),
        ("post", f"/api/v1/claims/{n}/bank-account/"),
        ("get", f"/api/v1/programs/{code}/quote"),
        ("post", "/api/v1/auth/token/"),
        ("post", f"/p/{code}/apply/"),
        ("post", "/claim/"),
        ("get", f"/p/{code}/"),
    ]
    staff = [
        ("get", "/api/v1/staff/claims/"),
        ("post", f"/api/v1/staff/claims/{n}/approve/"),
        ("post", f"/api/v1/staff/claims/{n}/reject/"),
        ("post", f"/api/v1/staff/claims/{n}/return/"),
        ("get", f"/api/v1/staff/claims/{n}/"),
    ]
    finance = [("get", "/api/v1/staff/payout-batches/"), ("post", "/api/v1/staff/payout-batches/")]
    return public, staff, finance


@pytest.mark.django_db(transaction=True)
@hsettings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(data=st.data())
def test_generated_bad_input_never_gets_a_5xx(data):
    program = make_program(code=f"fz{data.draw(st.integers(0, 10**9))}")
    claim = submit_claim(program)
    reviewer = make_staff(f"r{claim.pk}x", "reviewer")
    finance = make_staff(f"f{claim.pk}x", "finance")
    public, staff, money = _endpoints({"program": program, "claim": claim})
    method, url = data.draw(st.sampled_from(public + staff + money))
    client = Client(raise_request_exception=False)
    if (method, url) in staff:
        client = token_client(reviewer)
    elif (method, url) in money:
        client = token_client(finance)
    body = {
        name: data.draw(JUNK)
        for name in data.draw(
            st.lists(st.sampled_from(PUBLIC_FIELDS + ["reason", "note", "status", "page"]), max_size=6)
        )
    }
    as_json = data.draw(st.booleans())
    if method == "get":
        r = client.get(url, body)
    elif as_json:
        r = client.post(url, body, content_type="application/json")
    else:
        r = client.post(url, body)
    assert r.status_code < 500, (method, url, body, r.status_code)
