"""`python manage.py demo`: the embedded default, end to end, for a person to try (README: `make run`).

Migrates, loads the Fenyang program and a demo program whose windows include today, creates one demo account per
role, then runs the web server, a Celery worker and Celery beat until Ctrl-C, and stops them all.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.utils import timezone

from claims.accounts.services import staff_create
from claims.programs.services import program_load, program_parse

DEMO_ACCOUNTS = [
    ("reviewer", "reviewer", "review-demo-2023"),
    ("finance", "finance", "finance-demo-2023"),
    ("finance2", "finance", "finance-demo-2023"),
    ("auditor", "auditor", "auditor-demo-2023"),
]


def demo_program_document(today: dt.date) -> dict:
    source = Path(settings.BASE_DIR) / "programs" / "fenyang-2023-car.json"
    data = json.loads(source.read_text(encoding="utf-8"))
    data.update(
        code="demo-car",
        name="演示：汽车消费补贴（受理期含今天）",
        claim_prefix="DEMO",
        budget_total="50000.00",
        claim_window={
            "start": (today - dt.timedelta(days=30)).isoformat(),
            "end": (today + dt.timedelta(days=335)).isoformat(),
        },
        purchase_window={
            "start": (today - dt.timedelta(days=90)).isoformat(),
            "end": (today + dt.timedelta(days=335)).isoformat(),
        },
    )
    return data


class Command(BaseCommand):
    help = "Set up the demo data and run server, worker and beat until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--setup-only", action="store_true", help="prepare the data, start nothing")

    def handle(self, *args, port: int, setup_only: bool, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_program", str(Path(settings.BASE_DIR) / "programs" / "fenyang-2023-car.json"))
        spec = program_parse(demo_program_document(timezone.localdate()))
        try:
            program_load(spec)
        except Exception as exc:  # an existing demo program with claims keeps its windows
            self.stdout.write(f"demo program kept as it is ({exc})")
        for username, role, password in DEMO_ACCOUNTS:
            staff_create(username, role, password)

        User = get_user_model()
        if not User.objects.filter(username="admin").exists():
            User.objects.create_superuser("admin", "", "admin-demo-2023")
        if setup_only:
            return
        self.run_processes(port)

    def run_processes(self, port: int) -> None:
        python = sys.executable
        base = str(settings.BASE_DIR)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        commands = {
            "web": [python, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [
                python,
                "-m",
                "celery",
                "-A",
                "subsidy",
                "worker",
                "--loglevel=INFO",
                "--concurrency=1",
            ],
            "beat": [python, "-m", "celery", "-A", "subsidy", "beat", "--loglevel=INFO"],
        }
        procs = {
            name: subprocess.Popen(cmd, cwd=base, env=env, start_new_session=True)
            for name, cmd in commands.items()
        }
        url = f"http://127.0.0.1:{port}"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  buyers' pages   {url}/",
                    f"  admin           {url}/admin/   (admin / admin-demo-2023)",
                    f"  API docs        {url}/api/docs/",
                    f"  health          {url}/healthz",
                    "  demo logins     " + ", ".join(f"{u} / {p}" for u, _r, p in DEMO_ACCOUNTS),
                    f"  data folder     {settings.DATA_DIR}",
                    "  Ctrl-C stops the server, the worker and beat.",
                    "",
                ]
            )
        )
        stopping = False

        def stop(*_args):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs.items():
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping the others")
                        stopping = True
                time.sleep(0.5)
        finally:
            for proc in procs.values():
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for proc in procs.values():
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            self.stdout.write("stopped")
