"""Roles and staff authentication: token, lockout after repeated failures, throttling."""

from __future__ import annotations

import pytest
from django.test import Client

from claims.accounts.roles import has_role, user_roles
from tests.factories import make_staff

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"


def _login(client, username, password, ip="10.0.0.1"):
    return client.post(
        TOKEN, {"username": username, "password": password}, content_type="application/json", REMOTE_ADDR=ip
    )


def test_roles_are_groups(reviewer, finance, auditor):
    assert user_roles(reviewer) == {"reviewer"}
    assert has_role(finance, "finance") and not has_role(finance, "reviewer")
    assert has_role(auditor, "auditor") and not has_role(auditor, "reviewer", "finance")


@pytest.mark.parametrize("role", ["reviewer", "finance", "auditor"])
def test_each_role_gets_a_token(role):
    make_staff(f"u-{role}", role, "pass-word-123")
    r = _login(Client(), f"u-{role}", "pass-word-123")
    assert r.status_code == 200 and len(r.json()["token"]) == 40


def test_same_token_on_second_login(reviewer):
    first = _login(Client(), "reviewer1", "pass-word-123").json()["token"]
    assert _login(Client(), "reviewer1", "pass-word-123").json()["token"] == first


def test_user_without_role_gets_no_token(db):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_user("plain", password="pass-word-123")
    r = _login(Client(), "plain", "pass-word-123")
    assert r.status_code == 403 and r.json()["code"] == "not_staff"


def test_missing_fields_are_a_validation_error(db):
    r = Client().post(TOKEN, {"username": "x"}, content_type="application/json")
    assert r.status_code == 400 and r.json()["code"] == "required"


def test_lockout_after_repeated_failures(settings, reviewer):
    settings.AXES_FAILURE_LIMIT = 3
    client = Client()
    for _ in range(3):
        r = _login(client, "reviewer1", "wrong-password")
        assert r.status_code in (400, 429)
    r = _login(client, "reviewer1", "pass-word-123")  # the right password no longer works
    assert r.status_code == 429, r.content
    assert r.json()["code"] == "account_locked" and r.json()["message"]
    # Another address is not locked for this user (lockout by username and address).
    assert _login(Client(), "reviewer1", "pass-word-123", ip="10.0.0.2").status_code == 200


def test_failures_are_counted_by_axes(reviewer):
    from axes.models import AccessAttempt

    _login(Client(), "reviewer1", "wrong-password")
    attempt = AccessAttempt.objects.get(username="reviewer1")
    assert attempt.failures_since_start == 1


def test_token_endpoint_is_throttled(settings, reviewer, monkeypatch):
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "2/min"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    client = Client()
    assert _login(client, "reviewer1", "pass-word-123").status_code == 200
    assert _login(client, "reviewer1", "pass-word-123").status_code == 200
    r = _login(client, "reviewer1", "pass-word-123")
    assert r.status_code == 429 and r.json()["code"] == "throttled"
