"""Start the project's gunicorn for a benchmark and wait until it answers `/healthz`."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import requests

ROOT = Path(__file__).resolve().parent.parent


def gunicorn_start(
    port: int, env: dict[str, str], *, threads: int = 1, stderr: IO[bytes] | int = subprocess.DEVNULL
) -> subprocess.Popen:
    """`gunicorn -w 2` (as in production) on 127.0.0.1:`port`; SystemExit when it does not come up in 30 s."""
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "-w", "2", "--threads", str(threads), "-b", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(
        [*command, "--timeout", "120", "subsidy.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
    )
    for _ in range(150):
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                return proc
        except requests.RequestException:
            pass
        time.sleep(0.2)
    proc.terminate()
    raise SystemExit("gunicorn did not start")
