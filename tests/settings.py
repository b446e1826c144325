"""Test settings: the product's settings with test-friendly environment defaults (CI may override any of them)."""

import os
import tempfile

# Each test run gets its own data folder (documents, keys, broker, SQLite) unless the caller names one, so runs
# side by side never share a test database file.
if not os.environ.get("SUBSIDY_DATA_DIR"):
    os.environ["SUBSIDY_DATA_DIR"] = tempfile.mkdtemp(prefix="subsidy-test-")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "1")
# DEBUG is off by default; the tests are a development command and use the generated development keys.
os.environ.setdefault("DEBUG", "1")
# OCR is exercised by tests/ocr; elsewhere a claim's documents are read by no engine, which is fast.
os.environ.setdefault("OCR_ENGINES", "")
for _scope in (
    "SUBMIT_RATE",
    "LOOKUP_RATE",
    "AUTH_RATE",
    "RECOVER_RATE",
    "UPLOAD_RATE",
    "CHECK_RATE",
    "CLAIM_NUMBER_RATE",
):
    os.environ.setdefault(_scope, "100000/min")

from subsidy.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast logins in tests only
