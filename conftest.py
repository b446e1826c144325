"""Test-wide fixtures. Environment defaults for tests are in tests/settings.py."""

import pytest


@pytest.fixture(autouse=True)
def _isolated_documents(settings, tmp_path):
    settings.DOCUMENTS_DIR = tmp_path / "documents"
    settings.EXPORTS_DIR = tmp_path / "exports"
    settings.SMS_OUTBOX_FILE = tmp_path / "outbox" / "sms.jsonl"


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


@pytest.fixture
def worker_ocr_engines() -> str:
    """OCR engines of the worker started by `celery_worker_process`; override the fixture to enable some."""
    return ""


@pytest.fixture
def celery_worker_process(transactional_db, settings, worker_ocr_engines):
    """A real `celery -A subsidy worker` on the configured broker (Redis in CI, else the file broker), using the
    test database; tasks sent by the test go through the broker instead of running inline."""
    import os
    import subprocess
    import sys
    import time

    from django.db import connection

    from subsidy.celery import app

    # The worker reads documents where its settings put them: the data folder, not this test's tmp_path.
    settings.DOCUMENTS_DIR = settings.DATA_DIR / "documents"
    settings.EXPORTS_DIR = settings.DATA_DIR / "exports"
    settings.SMS_OUTBOX_FILE = settings.DATA_DIR / "outbox" / "sms.jsonl"
    db = connection.settings_dict
    if db["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{db['NAME']}"
    else:
        url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "subsidy.settings",
        "DATABASE_URL": url,
        "SUBSIDY_DATA_DIR": str(settings.DATA_DIR),
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "CELERY_TASK_ALWAYS_EAGER": "0",
        "OCR_ENGINES": worker_ocr_engines,
        "OMP_THREAD_LIMIT": "1",
        "PYTHONUNBUFFERED": "1",
    }
    log_path = settings.DATA_DIR / "worker.log"
    start = (
        log_path.stat().st_size if log_path.exists() else 0
    )  # an earlier worker's "ready." is not this one's
    log = open(log_path, "ab")  # noqa: SIM115
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "subsidy",
            "worker",
            "--pool=solo",
            "--loglevel=INFO",
            "-n",
            f"test{os.getpid()}@%h",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=str(settings.BASE_DIR),
    )
    app.conf.task_always_eager = False
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(
                    f"worker exited early: {(settings.DATA_DIR / 'worker.log').read_text()[-2000:]}"
                )
            if b"ready." in log_path.read_bytes()[start:]:
                break
            time.sleep(0.2)
        else:
            raise RuntimeError("worker did not start within 60 s")
        yield proc
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def wait_for(predicate, timeout: float = 60.0, interval: float = 0.2):
    """Poll until `predicate()` is truthy (returns its value) or fail after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")
