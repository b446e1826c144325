"""Oversized bodies are refused before they are read; infrastructure failures answer 503 with Retry-After."""

import errno
import logging
import socket

import pytest
from django.core.cache import caches
from django.db import OperationalError, connection

from claims.intake import services as intake
from subsidy.cache import ResilientFileBasedCache, ResilientRedisCache
from tests.factories import claim_payload, document_files


def test_a_body_over_the_limit_is_refused_from_its_content_length(client, settings, db):
    settings.MAX_REQUEST_BODY_BYTES = 1000
    r = client.generic(
        "POST", "/api/v1/claims/", b"x" * 10, content_type="text/plain", CONTENT_LENGTH="5000000"
    )
    assert r.status_code == 413
    assert r.json()["code"] == "request_too_large" and r.json()["message"]
    assert r["Connection"] == "close"
    page = client.generic("POST", "/claim/", b"", CONTENT_LENGTH="5000000")
    assert page.status_code == 413 and "过大" in page.content.decode()


def test_a_content_length_that_is_not_a_number_is_a_bad_request(client, db):
    r = client.generic(
        "POST", "/api/v1/claims/lookup/", b"{}", content_type="application/json", CONTENT_LENGTH="ab"
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"


def _database_down(execute, sql, params, many, context):
    raise OperationalError("server closed the connection unexpectedly")


@pytest.mark.django_db
def test_database_down_is_json_503_on_the_api_and_a_chinese_page_elsewhere(client, program):
    with connection.execute_wrapper(_database_down):
        api = client.get("/api/v1/programs/")
        page = client.get(f"/p/{program.code}/")
    assert api.status_code == 503
    assert api.json()["code"] == "service_unavailable" and api.json()["message"]
    assert int(api["Retry-After"]) > 0
    assert page.status_code == 503 and int(page["Retry-After"]) > 0
    assert "系统繁忙" in page.content.decode()


@pytest.mark.django_db
def test_a_full_disk_is_503(client, program, monkeypatch):
    def full(doc):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(intake, "document_store", full)
    r = client.post("/api/v1/claims/", {**claim_payload(program.code), **document_files()})
    assert r.status_code == 503, r.content
    assert r.json()["code"] == "service_unavailable" and r["Retry-After"]


def _dead_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_cache_falls_back_per_process_when_redis_is_down(caplog):
    cache = ResilientRedisCache(f"redis://127.0.0.1:{_dead_port()}/0", {})
    with caplog.at_level(logging.WARNING, logger="subsidy.cache"):
        assert cache.add("k", 1, 60) is True
        assert cache.add("k", 1, 60) is False
        assert cache.incr("k") == 2
        assert cache.get("k") == 2
    assert "cache unavailable" in caplog.text


@pytest.mark.django_db
def test_a_cache_outage_does_not_stop_the_api(client, program, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "subsidy.cache.ResilientRedisCache",
            "LOCATION": f"redis://127.0.0.1:{_dead_port()}/0",
        }
    }
    try:
        r = client.post(
            "/api/v1/claims/lookup/",
            {"claim_number": "X-000001", "id_number": "11010519491231002X"},
            content_type="application/json",
        )
        assert r.status_code == 404, r.content
    finally:
        caches["default"].close()


def test_the_file_cache_falls_back_when_its_disk_fails(tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")  # the cache folder cannot be created: every write fails like a read-only disk
    cache = ResilientFileBasedCache(str(blocked / "cache"), {})
    assert cache.add("k", 1, 60) is True
    assert cache.get("k") == 1
