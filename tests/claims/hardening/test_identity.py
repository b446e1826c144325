"""Who is asking: the client address, rate limits per address and per claim number, the withdrawal's proof."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory

from claims.models import AuditLog
from claims.network import client_ip
from tests.factories import submit_claim

pytestmark = pytest.mark.django_db

LOOKUP = "/api/v1/claims/lookup/"


def _request(remote="203.0.113.7", xff=None):
    meta = {"REMOTE_ADDR": remote}
    if xff is not None:
        meta["HTTP_X_FORWARDED_FOR"] = xff
    return RequestFactory().get("/", **meta)


def test_without_trusted_proxies_the_socket_is_the_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(_request(xff="1.2.3.4")) == "203.0.113.7"


def test_trusted_proxies_take_the_nth_entry_from_the_right(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.2", "6.6.6.6, 198.51.100.9")) == "198.51.100.9"
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_ip(_request("10.0.0.2", "6.6.6.6, 198.51.100.9, 10.0.0.1")) == "198.51.100.9"
    # Fewer entries than proxies: the chain was bypassed, only the socket counts.
    assert client_ip(_request("10.0.0.2", "198.51.100.9")) == "10.0.0.2"


@pytest.mark.parametrize("forged", ["<script>alert(1)</script>", "not-an-ip", "1.2.3.4\x00", "999.1.1.1"])
def test_an_entry_that_is_not_an_ip_is_never_used(settings, forged):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.2", forged)) == "10.0.0.2"
    assert client_ip(_request("bogus", forged)) is None


def test_ipv6_is_canonical(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(_request("10.0.0.2", "[2001:DB8::1]")) == "2001:db8::1"


def _rates(settings, **rates):
    current = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {**current, **rates}}


def _lookup(client, number, id_number="110101199001011234", **extra):
    return client.post(
        LOOKUP, {"claim_number": number, "id_number": id_number}, content_type="application/json", **extra
    )


def test_a_new_forwarded_for_per_request_does_not_escape_the_limit(settings, program):
    _rates(settings, lookup="3/min")
    client = Client()
    codes = [
        _lookup(client, f"X{i}", HTTP_X_FORWARDED_FOR=f"10.9.{i}.1", REMOTE_ADDR="203.0.113.5").status_code
        for i in range(5)
    ]
    assert codes == [404, 404, 404, 429, 429]


def test_one_claim_number_is_limited_from_any_address(settings, program):
    _rates(settings, claim_number="3/hour")
    claim = submit_claim(program)
    client = Client()
    codes = [_lookup(client, claim.claim_number, REMOTE_ADDR=f"198.51.100.{i}").status_code for i in range(5)]
    assert codes == [404, 404, 404, 429, 429]
    # Other claims are not affected.
    assert _lookup(client, "FY-OTHER", REMOTE_ADDR="198.51.100.50").status_code == 404
    # Withdrawal of that claim is limited too.
    r = client.post(
        f"/api/v1/claims/{claim.claim_number}/withdraw/",
        {"id_number": claim.id_number, "phone_last4": claim.phone[-4:]},
        content_type="application/json",
        REMOTE_ADDR="198.51.100.77",
    )
    assert r.status_code == 429 and r.json()["code"] == "throttled"


def _withdraw(client, claim, **body):
    return client.post(
        f"/api/v1/claims/{claim.claim_number}/withdraw/", body, content_type="application/json"
    )


def test_withdrawal_needs_the_phones_last_four_digits(program):
    claim = submit_claim(program)
    client = Client()
    r = _withdraw(client, claim, id_number=claim.id_number)
    assert r.status_code == 400 and "phone_last4" in r.json()["fields"]
    wrong = "0000" if claim.phone[-4:] != "0000" else "1111"
    r = _withdraw(client, claim, id_number=claim.id_number, phone_last4=wrong)
    assert r.status_code == 404 and r.json()["code"] == "claim_not_found"
    claim.refresh_from_db()
    assert claim.status == "under_review"
    r = _withdraw(client, claim, id_number=claim.id_number, phone_last4=claim.phone[-4:])
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"


def test_audit_log_records_the_socket_not_a_forged_header(settings, reviewer):
    settings.TRUSTED_PROXY_COUNT = 0
    r = Client().post(
        "/api/v1/auth/token/",
        {"username": "reviewer1", "password": "pass-word-123"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.44",
        HTTP_X_FORWARDED_FOR="<script>x</script>",
    )
    assert r.status_code == 200
    assert AuditLog.objects.get(action="api_token_issued").ip_address == "192.0.2.44"


def test_an_admin_login_is_audited_with_the_socket_address(settings, reviewer):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client()
    r = client.post(
        "/admin/login/?next=/admin/",
        {"username": "reviewer1", "password": "pass-word-123"},
        REMOTE_ADDR="192.0.2.45",
        HTTP_X_FORWARDED_FOR="<script>x</script>",
    )
    assert r.status_code == 302
    row = AuditLog.objects.get(action="staff_login")
    assert (row.ip_address, row.actor_label, row.detail) == ("192.0.2.45", "reviewer1", {"via": "admin"})
    client.post("/admin/login/", {"username": "reviewer1", "password": "wrong"}, REMOTE_ADDR="192.0.2.45")
    assert AuditLog.objects.filter(action="staff_login").count() == 1


def test_lockout_is_not_escaped_with_forged_forwarded_for(settings, reviewer):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for i in range(3):
        client.post(
            "/api/v1/auth/token/",
            {"username": "reviewer1", "password": "wrong-password"},
            content_type="application/json",
            REMOTE_ADDR="192.0.2.10",
            HTTP_X_FORWARDED_FOR=f"10.1.1.{i}",
        )
    r = client.post(
        "/api/v1/auth/token/",
        {"username": "reviewer1", "password": "pass-word-123"},
        content_type="application/json",
        REMOTE_ADDR="192.0.2.10",
        HTTP_X_FORWARDED_FOR="10.1.1.99",
    )
    assert r.status_code == 429 and r.json()["code"] == "account_locked"
