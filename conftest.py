"""Test-wide fixtures. Environment defaults for tests are in tests/settings.py."""

import pytest


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
