"""A web process imports its views and Celery's messaging at start, and freezes what is alive then."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, sys
import subsidy.wsgi
loaded = [m for m in ("claims.intake.api", "celery.app.amqp", "kombu.transport.virtual") if m in sys.modules]
print(len(loaded), gc.get_freeze_count() > 10000)
"""


def test_the_wsgi_module_warms_and_freezes_the_process_without_connecting(tmp_path):
    # A fresh interpreter: what `gunicorn subsidy.wsgi` imports. The broker address points nowhere: warming
    # must not connect to it.
    env = {
        "PATH": "/usr/bin:/bin",
        "DEBUG": "1",
        "SUBSIDY_DATA_DIR": str(tmp_path),
        "CELERY_BROKER_URL": "redis://127.0.0.1:1/0",
    }
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split()[-2:] == ["3", "True"]
