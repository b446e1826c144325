"""Safe defaults: DEBUG off, keys checked at startup, check --deploy clean, tokens that expire, strong passwords."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from claims.accounts.services import staff_create
from claims.errors import ServiceError

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "/api/v1/auth/token/"

# The production variables the README documents (behind one TLS-terminating proxy).
PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 20 + "Q8v!kz3@Lm#p9Rt$Yw2^Hn6&Jd4*Fb7(Gc1)Vx5",
    "PII_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
    "PII_HASH_KEY": "h" * 64,
    "ALLOWED_HOSTS": "subsidy.example.gov.cn",
    "TRUSTED_PROXY_COUNT": "1",
    "TRUST_X_FORWARDED_PROTO": "1",
    "SECURE_SSL_REDIRECT": "1",
    "SECURE_HSTS_SECONDS": "31536000",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def _manage(tmp_path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "PII_ENCRYPTION_KEYS", "PII_HASH_KEY"}
    }
    base.update(SUBSIDY_DATA_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="subsidy.settings", **env)
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=base, capture_output=True, text=True, timeout=120
    )


def test_debug_is_off_by_default_and_secrets_are_then_required(tmp_path):
    r = _manage(tmp_path, {}, "check")
    assert r.returncode != 0 and "SECRET_KEY must be set when DEBUG is off" in r.stderr


def test_check_deploy_is_clean_with_the_production_variables(tmp_path):
    r = _manage(tmp_path, PRODUCTION_ENV, "check", "--deploy", "--tag", "security", "--fail-level", "WARNING")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "no issues" in r.stdout


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"PII_HASH_KEY": "abc"}, "at least 32 bytes"),
        ({"PII_HASH_KEYS": "h" * 64 + ",short"}, "at least 32 bytes"),
        ({"PII_ENCRYPTION_KEYS": "not-a-fernet-key"}, "must be a Fernet key"),
    ],
)
def test_keys_of_the_wrong_length_are_refused_at_startup(tmp_path, env, message):
    r = _manage(tmp_path, {**PRODUCTION_ENV, **env}, "check")
    assert r.returncode != 0 and message in r.stderr


def _login(username, password):
    return Client().post(TOKEN, {"username": username, "password": password}, content_type="application/json")


@pytest.mark.django_db
def test_staff_tokens_expire(settings, reviewer):
    settings.STAFF_TOKEN_HOURS = 12
    key = _login("reviewer1", "pass-word-123").json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    assert Client().get("/api/v1/staff/claims/", **auth).status_code == 200
    Token.objects.filter(key=key).update(created=timezone.now() - dt.timedelta(hours=12, minutes=1))
    r = Client().get("/api/v1/staff/claims/", **auth)
    assert r.status_code == 401 and r.json()["code"]
    assert not Token.objects.filter(key=key).exists()
    fresh = _login("reviewer1", "pass-word-123").json()["token"]
    assert fresh != key
    assert Client().get("/api/v1/staff/claims/", HTTP_AUTHORIZATION=f"Token {fresh}").status_code == 200


@pytest.mark.django_db
def test_a_password_change_revokes_the_token(reviewer):
    key = _login("reviewer1", "pass-word-123").json()["token"]
    reviewer.set_password("another-long-passphrase-7")
    reviewer.save()
    assert Client().get("/api/v1/staff/claims/", HTTP_AUTHORIZATION=f"Token {key}").status_code == 401


@pytest.mark.django_db
@pytest.mark.parametrize("password", ["short-pw-1", "123456789012345", "password12345"])
def test_weak_passwords_are_refused(password):
    with pytest.raises(ServiceError) as exc:
        staff_create("newstaff", "reviewer", password)
    assert exc.value.code == "invalid_password"
