"""A whole deployment of the project started by a test, so that the test can break pieces of it.

Its own PostgreSQL cluster (initdb + pg_ctl on a free port), its own redis-server (broker and cache on one
server, as docker/compose.yaml has them), gunicorn, a Celery worker (prefork, real OCR with Tesseract) and beat,
all from this checkout, with the production settings (DEBUG off). The documents folder is a small tmpfs when the
test may mount one, so that a test can fill it.

Assertions read the database directly (psycopg2); table names are asked from Django once, at start.
"""

from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import requests
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pg_bin() -> Path | None:
    for candidate in sorted(glob.glob(PG_BIN_GLOB), reverse=True):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    return None


def available() -> str | None:
    """Why the stack cannot run here, or None."""
    if pg_bin() is None:
        return "PostgreSQL server binaries not installed"
    if shutil.which("redis-server") is None:
        return "redis-server not installed"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser"
    return None


def _wait(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:g} s")


class Stack:
    def __init__(self, root: Path):
        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True)
        self.data_dir = root / "data"
        self.documents = self.data_dir / "documents"
        self.documents.mkdir(parents=True)
        # Outside the test's tmp folder, whose parents the postgres user may not enter.
        self.pg_dir = Path(tempfile.mkdtemp(prefix="faults-pg-")) / "data"
        self.pg_port = free_port()
        self.redis_port = free_port()
        self.web_port = free_port()
        self.procs: dict[str, subprocess.Popen] = {}
        self.tmpfs = False
        self.tables: dict[str, str] = {}
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "subsidy.settings",
            "DEBUG": "0",
            "SECRET_KEY": "fault-tests-" + os.urandom(24).hex(),
            "PII_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "PII_HASH_KEY": os.urandom(32).hex(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "DATABASE_URL": f"postgres://postgres@127.0.0.1:{self.pg_port}/subsidy",
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "CACHE_URL": f"redis://127.0.0.1:{self.redis_port}/1",
            "SUBSIDY_DATA_DIR": str(self.data_dir),
            "CELERY_TASK_ALWAYS_EAGER": "0",
            # No OCR engine by default: a reading then finishes at once (the whole path runs, without minutes of
            # OCR); the mid-OCR scenario starts its worker with Tesseract.
            "OCR_ENGINES": "",
            "OMP_THREAD_LIMIT": "1",
            "PYTHONUNBUFFERED": "1",
            # The sweeps run every few seconds here so the suite stays short; production runs them every
            # 30 s (OCR, 60 s staleness) and 5 minutes (payouts), which keeps recovery under two minutes.
            "OCR_SWEEP_SECONDS": "3",
            "OCR_STALE_SECONDS": "8",
            "PAYOUT_SWEEP_SECONDS": "4",
            "PAYOUT_STALE_SECONDS": "5",
            "SUBMIT_RATE": "100000/min",
            "LOOKUP_RATE": "100000/min",
            "AUTH_RATE": "100000/min",
        }
        for name in ("CELERY_RESULT_BACKEND", "DB_CONN_MAX_AGE"):
            self.env.pop(name, None)

    # --- processes ---------------------------------------------------------------------------------------------

    def _as_postgres(self, args: list[str]) -> list[str]:
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args

    def _spawn(self, name: str, args: list[str], **kwargs) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen(
            args,
            env=self.env,
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill takes the parent and every child
            **kwargs,
        )
        proc._log = log  # type: ignore[attr-defined]
        self.procs[name] = proc
        return proc

    def log_tail(self, name: str, chars: int = 3000) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        proc._log.close()  # type: ignore[attr-defined]

    # --- PostgreSQL --------------------------------------------------------------------------------------------

    def start_postgres(self, first: bool = False) -> None:
        bin_dir = pg_bin()
        assert bin_dir is not None
        if first:
            self.pg_dir.mkdir()
            if os.geteuid() == 0:
                shutil.chown(self.pg_dir, "postgres", "postgres")
                shutil.chown(self.pg_dir.parent, "postgres", "postgres")
            subprocess.run(
                self._as_postgres(
                    [
                        str(bin_dir / "initdb"),
                        "-D",
                        str(self.pg_dir),
                        "-U",
                        "postgres",
                        "-A",
                        "trust",
                        "-E",
                        "UTF8",
                    ]
                ),
                check=True,
                capture_output=True,
            )
        options = (
            f"-p {self.pg_port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        subprocess.run(
            self._as_postgres(
                [
                    str(bin_dir / "pg_ctl"),
                    "-D",
                    str(self.pg_dir),
                    "-o",
                    options,
                    "-l",
                    str(self.pg_dir / "log"),
                    "-w",
                ]
                + ["-t", "60", "start"]
            ),
            check=True,
            capture_output=True,
        )
        if first:
            self.sql("CREATE DATABASE subsidy", database="postgres")

    def stop_postgres(self, mode: str = "fast") -> None:
        bin_dir = pg_bin()
        subprocess.run(
            self._as_postgres([str(bin_dir / "pg_ctl"), "-D", str(self.pg_dir), "-m", mode, "-w", "stop"]),
            check=False,
            capture_output=True,
        )

    def sql(self, query: str, params=(), database: str = "subsidy"):
        conn = psycopg2.connect(host="127.0.0.1", port=self.pg_port, user="postgres", dbname=database)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(query, params)
                return cur.fetchall() if cur.description else None
        finally:
            conn.close()

    # --- Redis -------------------------------------------------------------------------------------------------

    def start_redis(self) -> None:
        self._spawn(
            "redis",
            [
                "redis-server",
                "--port",
                str(self.redis_port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
        )
        _wait(self._redis_up, 20, "redis started")

    def _redis_up(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop_redis(self) -> None:
        """The broker and the cache go away at once, losing every queued message (no persistence)."""
        self.kill("redis")

    # --- the project -------------------------------------------------------------------------------------------

    def manage(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            env=self.env,
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=check,
        )

    def start_web(self) -> None:
        self._spawn(
            "web",
            [sys.executable, "-m", "gunicorn", "subsidy.wsgi:application", "-b", f"127.0.0.1:{self.web_port}"]
            + ["--workers", "3", "--timeout", "60", "--graceful-timeout", "5"],
        )
        _wait(self._web_up, 60, "gunicorn started")

    def _web_up(self) -> bool:
        if self.procs["web"].poll() is not None:
            raise AssertionError(f"gunicorn exited: {self.log_tail('web')}")
        try:
            return requests.get(self.url("/healthz"), timeout=2).status_code in (200, 503)
        except requests.RequestException:
            return False

    def start_worker(self, ocr_engines: str = "") -> None:
        name = f"faults{os.getpid()}-{time.monotonic_ns()}@%h"
        self.env["OCR_ENGINES"] = ocr_engines
        proc = self._spawn(
            "worker",
            [sys.executable, "-m", "celery", "-A", "subsidy", "worker", "--pool=prefork", "--concurrency=2"]
            + ["--loglevel=INFO", "-n", name, "--without-mingle", "--without-gossip"],
        )
        log = self.logs / "worker.log"
        start = log.stat().st_size if log.exists() else 0

        def ready() -> bool:
            if proc.poll() is not None:
                raise AssertionError(f"worker exited: {self.log_tail('worker')}")
            return b"ready." in log.read_bytes()[start:]

        _wait(ready, 90, "worker ready")

    def start_beat(self) -> None:
        self._spawn(
            "beat",
            [sys.executable, "-m", "celery", "-A", "subsidy", "beat", "--loglevel=INFO"]
            + ["--schedule", str(self.data_dir / "celerybeat-schedule")],
        )

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.web_port}{path}"

    def mount_documents(self, size_mb: int = 64) -> None:
        """The documents folder on a tmpfs of its own, when this process may mount one."""
        if os.geteuid() != 0 or shutil.which("mount") is None:
            return
        done = subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(self.documents)],
            capture_output=True,
        )
        self.tmpfs = done.returncode == 0

    def remount_documents(self, option: str) -> None:
        subprocess.run(
            ["mount", "-o", f"remount,{option}", str(self.documents)], check=True, capture_output=True
        )

    def start(self) -> None:
        self.mount_documents()
        self.start_postgres(first=True)
        self.start_redis()
        self.manage("migrate", "--noinput")
        self.tables = json.loads(self.manage("shell", "-c", _TABLES_SCRIPT).stdout.strip().splitlines()[-1])
        self.start_web()
        self.start_worker()
        self.start_beat()

    def stop(self) -> None:
        for name in ("beat", "worker", "web", "redis"):
            self.kill(name, signal.SIGTERM)
        self.stop_postgres("immediate")
        shutil.rmtree(self.pg_dir.parent, ignore_errors=True)
        if self.tmpfs:
            subprocess.run(["umount", "-l", str(self.documents)], capture_output=True)

    # --- what the database says --------------------------------------------------------------------------------

    def t(self, name: str) -> str:
        return self.tables[name]

    def unread_documents(self) -> int:
        """Current documents without a finished reading."""
        rows = self.sql(
            f"SELECT count(*) FROM {self.t('document')} d LEFT JOIN {self.t('reading')} r ON r.document_id = d.id"
            " WHERE d.is_current AND (r.id IS NULL OR r.status = 'pending')"
        )
        return rows[0][0]

    def stored_files(self) -> set[str]:
        """Every file in the documents folder, as storage names (temporary files included, as they are)."""
        return {
            str(p.relative_to(self.documents))
            for p in self.documents.rglob("*")
            if p.is_file() and not p.name.startswith("filler")
        }

    def referenced_files(self) -> set[str]:
        return {row[0] for row in self.sql(f"SELECT DISTINCT storage_name FROM {self.t('document')}")}

    def check_budget(self, code: str) -> subprocess.CompletedProcess:
        return self.manage("check_budget", code, check=False)


# Table names from the models, so the assertions follow the code if the models move.
_TABLES_SCRIPT = """
import json
from django.apps import apps
names = {}
for model in apps.get_models():
    names[model.__name__] = model._meta.db_table
print(json.dumps({
    "claim": names["Claim"], "document": names["ClaimDocument"], "reading": names["DocumentReading"],
    "payout": names["Payout"], "idempotency": names["IdempotencyRecord"], "program": names["Program"],
}))
"""
