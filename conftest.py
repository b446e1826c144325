"""Test-wide setup. Environment first, before Django reads its settings."""

import os
import tempfile
from pathlib import Path

# Tests get their own data folder (documents, keys, broker, SQLite) unless CI names one.
os.environ.setdefault("SUBSIDY_DATA_DIR", str(Path(tempfile.gettempdir()) / f"subsidy-test-{os.getuid()}"))
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
# OCR is exercised by tests/ocr; elsewhere a claim's documents are "read" by no engine, which is fast.
os.environ.setdefault("OCR_ENGINES", "")
for scope in ("SUBMIT_RATE", "LOOKUP_RATE", "AUTH_RATE"):
    os.environ.setdefault(scope, "100000/min")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_documents(settings, tmp_path):
    settings.DOCUMENTS_DIR = tmp_path / "documents"
    settings.EXPORTS_DIR = tmp_path / "exports"


@pytest.fixture(autouse=True)
def _clear_cache():
    from django.core.cache import cache

    cache.clear()
    yield


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs PostgreSQL")


@pytest.fixture
def program(db):
    from tests.factories import make_program

    return make_program()


def is_postgres() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


@pytest.fixture
def postgres_only(db):
    if not is_postgres():
        pytest.skip("needs PostgreSQL (DATABASE_URL=postgres://...)")


@pytest.fixture
def reviewer(db):
    from tests.factories import make_staff

    return make_staff("reviewer1", "reviewer")


@pytest.fixture
def finance(db):
    from tests.factories import make_staff

    return make_staff("finance1", "finance")


@pytest.fixture
def finance2(db):
    from tests.factories import make_staff

    return make_staff("finance2", "finance")


@pytest.fixture
def auditor(db):
    from tests.factories import make_staff

    return make_staff("auditor1", "auditor")


def token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    client = APIClient()
    token, _created = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client
