"""Attacker and clumsy-user probes over real HTTP against gunicorn on PostgreSQL: each must get a 4xx or a refusal.

    createdb -h 127.0.0.1 -U postgres subsidy_probe
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/subsidy_probe .venv/bin/python bench/hardening_probes.py

The script migrates the database, loads a fresh program, creates its staff accounts, starts `gunicorn -w 2
subsidy.wsgi` with DEBUG=0 and its own data folder (a temporary directory), sends every probe and prints a
markdown table: the probe, the HTTP status, the JSON `code`, what happened (read back from the database where it
matters) and the peak RSS of the server's processes during that probe: the gunicorn workers (their VmHWM, reset
before each probe through /proc/<pid>/clear_refs) and, when one was seen, the child a worker forks to parse a
document (sampled from /proc).

It exits 1 when any probe got a 5xx (or no answer), or any server process went over 300 MB (`--rss-limit-mb`).

The submission and upload rates are raised on the server so the probes are not throttled before they are
judged; the lookup rate stays at its default (30 a minute), which the rate-limit probe shows holding against a
new `X-Forwarded-For` per request. That probe connects from 127.0.0.2 so the earlier probes' requests from
127.0.0.1 do not count against it. Session and CSRF cookies are sent over plain HTTP here
(`SESSION_COOKIE_SECURE=0`, `CSRF_COOKIE_SECURE=0`): there is no TLS proxy in front of this server.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import re
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import requests
from cryptography.fernet import Fernet
from requests.adapters import HTTPAdapter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
    raise SystemExit(
        "set DATABASE_URL to a PostgreSQL database, e.g. postgres://postgres@127.0.0.1:5432/subsidy_probe"
    )
DATA_DIR = tempfile.mkdtemp(prefix="subsidy-probes-")
os.environ["SUBSIDY_DATA_DIR"] = DATA_DIR
os.environ["DEBUG"] = "0"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")
# DEBUG is off (as in production): the secrets are generated here once and shared with the server.
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(50))
os.environ.setdefault("PII_HASH_KEY", secrets.token_hex(32))
os.environ.setdefault("PII_ENCRYPTION_KEYS", Fernet.generate_key().decode())

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402

from bench.gunicorn_server import gunicorn_start  # noqa: E402
from bench.hostile_documents import flate_bomb_pdf, png_40mp  # noqa: E402
from claims.accounts.services import staff_create  # noqa: E402
from claims.models import AuditLog, Claim, Program, StagedUpload  # noqa: E402
from claims.programs.services import program_load, program_parse  # noqa: E402
from claims.review.search import get_search_refused  # noqa: E402
from tests.factories import claim_payload, image_bytes, make_id_number, program_document  # noqa: E402

KINDS = ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip")
PASSWORD = "probe-Pass-word-4711"
SERVER_ENV = {
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "SUBMIT_RATE": "100000/min",
    "UPLOAD_RATE": "100000/min",
    "CHECK_RATE": "100000/min",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
}
BAD_AMOUNTS = ["1e400", "1e20", "100000000000.00", "-1", "NaN"]
NUL_FIELDS = [
    "applicant_name",
    "program",
    "vin",
    "bank_name",
    "dealer_name",
    "vehicle_model",
    "invoice_amount",
]


# --- Server processes and their memory ---------------------------------------------------------------------


def _ppid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def _children(parents: set[int]) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and _ppid(int(entry)) in parents:
            found.add(int(entry))
    return found


def _status_kb(pid: int, key: str) -> int:
    try:
        for text_line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if text_line.startswith(key + ":"):
                return int(text_line.split()[1])
    except OSError:
        pass
    return 0


class MemoryWatch:
    """Peak RSS of the gunicorn workers (VmHWM) and of any child they fork, per probe."""

    def __init__(self, master: int):
        self.master = master
        self.seen_workers: set[int] = set()
        self.can_reset = True
        self._child_peak_kb = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def workers(self) -> set[int]:
        pids = _children({self.master})
        self.seen_workers |= pids
        return pids

    def start(self) -> None:
        for pid in self.workers():
            try:
                Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            except OSError:
                self.can_reset = False  # then the figures are peaks since the worker started
        self._child_peak_kb = 0
        self._stop.clear()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        workers = self.workers()
        while not self._stop.is_set():
            for pid in _children(workers):
                self._child_peak_kb = max(self._child_peak_kb, _status_kb(pid, "VmHWM"))
            time.sleep(0.02)

    def stop(self) -> tuple[int, int]:
        """(worker peak MB, parse-child peak MB or 0)."""
        self._stop.set()
        if self._thread:
            self._thread.join()
        worker_kb = max((_status_kb(pid, "VmHWM") for pid in self.workers()), default=0)
        return round(worker_kb / 1024), round(self._child_peak_kb / 1024)


def start_server(port: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV}
    log = open(Path(DATA_DIR) / "gunicorn.log", "wb")  # noqa: SIM115 - lives as long as the server
    try:
        return gunicorn_start(port, env, stderr=log)
    except SystemExit:
        raise SystemExit(f"gunicorn did not start; see {DATA_DIR}/gunicorn.log") from None


# --- HTTP ------------------------------------------------------------------------------------------------------


class SourceAddressAdapter(HTTPAdapter):
    """Connects from a chosen local address (another loopback address is another client to the server)."""

    def __init__(self, source: str, **kwargs):
        self.source = source
        super().__init__(**kwargs)

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


@dataclass
class Row:
    probe: str
    status: int
    code: str
    happened: str
    worker_mb: int = 0
    child_mb: int = 0


def must(response: requests.Response) -> None:
    """A setup step: stop with the server's answer when it failed."""
    if response.status_code >= 400:
        raise SystemExit(
            f"setup step {response.request.method} {response.url}: {response.status_code} {response.text[:500]}"
        )


def code_of(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return "-"
    return str(body.get("code") or "-") if isinstance(body, dict) else "-"


def fields_of(response: requests.Response) -> str:
    try:
        fields = response.json().get("fields") or {}
    except (ValueError, AttributeError):
        return ""
    return ", ".join(f"{name}: {problems[0]['code']}" for name, problems in fields.items() if problems)


@dataclass
class Probes:
    base: str
    program: Program
    watch: MemoryWatch
    rows: list[Row] = field(default_factory=list)
    http: requests.Session = field(default_factory=requests.Session)
    tokens: dict[str, str] = field(default_factory=dict)
    admin: requests.Session | None = None
    _staged: dict[str, str] | None = None

    # --- helpers

    def probe(self, name: str, action: Callable[[], tuple[int, str, str]]) -> None:
        self.watch.start()
        try:
            status, code, happened = action()
        except requests.RequestException as exc:
            status, code, happened = 0, "-", f"no answer: {type(exc).__name__}"
        worker_mb, child_mb = self.watch.stop()
        row = Row(name, status, code, happened, worker_mb, child_mb)
        self.rows.append(row)
        print(f"  {status} {code:<34} {name}: {happened}", file=sys.stderr)

    def token(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Token {self.tokens[role]}"}

    def state(self) -> tuple[int, str]:
        self.program.refresh_from_db()
        return Claim.objects.filter(program=self.program).count(), str(self.program.reserved)

    def outcome(self, before: tuple[int, str], response: requests.Response) -> str:
        claims, reserved = self.state()
        if response.status_code in (200, 201):
            verdict = f"accepted ({response.json().get('status', 'ok')})"
        else:
            detail = fields_of(response)
            verdict = "refused" + (f" [{detail}]" if detail else "")
        if (claims, reserved) == before:
            return f"{verdict}; no claim written, nothing reserved"
        return f"{verdict}; claims {before[0]} -> {claims}, reserved {before[1]} -> {reserved}"

    def small_files(self, tag: str, **replace: tuple[str, bytes, str]) -> dict:
        files = {
            k: (f"{k}.png", image_bytes(f"{k} {tag} {secrets.token_hex(4)}"), "image/png") for k in KINDS
        }
        files.update(replace)
        return files

    def stage(self, kind: str, name: str, data: bytes, content_type: str) -> requests.Response:
        return self.http.post(
            f"{self.base}/api/v1/uploads/", data={"kind": kind}, files={"file": (name, data, content_type)}
        )

    def staged_ids(self) -> dict[str, str]:
        """Five small staged uploads, reused by refused JSON submissions (a refusal does not use them up)."""
        if self._staged is None:
            ids = {}
            for kind in KINDS:
                r = self.stage(
                    kind, f"{kind}.png", image_bytes(f"{kind} {secrets.token_hex(6)}"), "image/png"
                )
                must(r)
                ids[f"{kind}_upload"] = r.json()["upload_id"]
            self._staged = ids
        return self._staged

    def submit_json(self, body: bytes) -> requests.Response:
        r = self.http.post(
            f"{self.base}/api/v1/claims/", data=body, headers={"Content-Type": "application/json"}
        )
        if r.status_code == 201:
            self._staged = None  # those uploads now belong to a claim
        return r

    def submit_valid(self) -> str:
        payload = {**claim_payload(self.program.code), **self.staged_ids()}
        r = self.submit_json(json.dumps(payload).encode())
        if r.status_code != 201:
            raise SystemExit(f"a valid submission was refused: {r.status_code} {r.text[:300]}")
        return r.json()["claim_number"]

    # --- setup

    def login_tokens(self) -> None:
        for role in ("reviewer", "finance", "finance2"):
            r = self.http.post(
                f"{self.base}/api/v1/auth/token/", json={"username": f"probe-{role}", "password": PASSWORD}
            )
            must(r)
            self.tokens[role] = r.json()["token"]

    def admin_login(self, forwarded_for: str) -> requests.Response:
        session = requests.Session()
        page = session.get(f"{self.base}/admin/login/")
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        r = session.post(
            f"{self.base}/admin/login/?next=/admin/",
            data={
                "csrfmiddlewaretoken": match.group(1) if match else "",
                "username": "probe-reviewer",
                "password": PASSWORD,
                "next": "/admin/",
            },
            headers={"X-Forwarded-For": forwarded_for, "Referer": f"{self.base}/admin/login/"},
            allow_redirects=False,
        )
        if r.status_code == 302 and "sessionid" in session.cookies:
            self.admin = session
        return r

    def approved_batch(self) -> tuple[int, str]:
        """A claim submitted, approved, put in a batch by one finance user and approved by another."""
        number = self.submit_valid()
        self.http.get(f"{self.base}/api/v1/staff/claims/{number}/", headers=self.token("reviewer"))
        r = self.http.post(
            f"{self.base}/api/v1/staff/claims/{number}/approve/",
            json={"note": "probe"},
            headers=self.token("reviewer"),
        )
        must(r)
        r = self.http.post(
            f"{self.base}/api/v1/staff/payout-batches/",
            json={"program": self.program.code},
            headers=self.token("finance"),
        )
        must(r)
        batch = r.json()["id"]
        r = self.http.post(
            f"{self.base}/api/v1/staff/payout-batches/{batch}/approve/", headers=self.token("finance2")
        )
        must(r)
        return batch, number

    def returned_claim(self) -> str:
        number = self.submit_valid()
        self.http.get(f"{self.base}/api/v1/staff/claims/{number}/", headers=self.token("reviewer"))
        r = self.http.post(
            f"{self.base}/api/v1/staff/claims/{number}/return/",
            json={"reason_code": "other", "reason": "probe: please correct the ID number"},
            headers=self.token("reviewer"),
        )
        must(r)
        return number

    # --- probes

    def documents(self) -> None:
        bomb = flate_bomb_pdf()
        big = png_40mp()
        for label, kind, name, data, ctype in (
            (
                f"1 MB flate-bomb PDF ({len(bomb) // 1024} KB), staged upload",
                "invoice",
                "bomb.pdf",
                bomb,
                "application/pdf",
            ),
            (
                f"40-megapixel PNG ({len(big) // 1024} KB), staged upload",
                "vehicle_license",
                "big.png",
                big,
                "image/png",
            ),
        ):

            def upload(kind=kind, name=name, data=data, ctype=ctype):
                before = StagedUpload.objects.count()
                r = self.stage(kind, name, data, ctype)
                staged = StagedUpload.objects.count() - before
                verdict = "accepted, staged" if r.status_code == 201 else "refused"
                return r.status_code, code_of(r), f"{verdict}; {staged} upload row(s) written"

            self.probe(label, upload)
        for label, kind, name, data, ctype in (
            (
                "1 MB flate-bomb PDF as the invoice, multipart submission",
                "invoice",
                "bomb.pdf",
                bomb,
                "application/pdf",
            ),
            (
                "40-megapixel PNG as the licence, multipart submission",
                "vehicle_license",
                "big.png",
                big,
                "image/png",
            ),
        ):

            def submit(kind=kind, name=name, data=data, ctype=ctype):
                before = self.state()
                r = self.http.post(
                    f"{self.base}/api/v1/claims/",
                    data=claim_payload(self.program.code),
                    files=self.small_files("doc", **{kind: (name, data, ctype)}),
                )
                return r.status_code, code_of(r), self.outcome(before, r)

            self.probe(label, submit)

    def amounts(self, batch: int, paid_claim: str) -> None:
        code = self.program.code
        for raw in BAD_AMOUNTS:

            def quote(raw=raw):
                r = self.http.get(
                    f"{self.base}/api/v1/programs/{code}/quote",
                    params={"invoice_amount": raw, "fuel_type": "nev"},
                )
                return (
                    r.status_code,
                    code_of(r),
                    "refused" if r.status_code >= 400 else f"answered {r.text[:60]}",
                )

            self.probe(f"amount `{raw}`: quote API", quote)

            def calculator(raw=raw):
                r = self.http.get(
                    f"{self.base}/p/{code}/", params={"invoice_amount": raw, "fuel_type": "nev"}
                )
                result = re.search(r'id="calc-result" class="result (\w+)".*?<p[^>]*>(.*?)</p>', r.text, re.S)
                if result is None:
                    return r.status_code, code_of(r), "page shown without a calculator result"
                verdict = "refused on the page" if result.group(1) == "bad" else "QUOTED"
                return r.status_code, code_of(r), f"{verdict}: “{result.group(2).strip()}”"

            self.probe(f"amount `{raw}`: calculator page", calculator)

            def json_submit(raw=raw):
                before = self.state()
                r = self.submit_json(
                    json.dumps({**claim_payload(code, invoice_amount=raw), **self.staged_ids()}).encode()
                )
                return r.status_code, code_of(r), self.outcome(before, r)

            self.probe(f"amount `{raw}`: JSON submission", json_submit)

            def multipart_submit(raw=raw):
                before = self.state()
                r = self.http.post(
                    f"{self.base}/api/v1/claims/",
                    data=claim_payload(code, invoice_amount=raw),
                    files=self.small_files("amount"),
                )
                return r.status_code, code_of(r), self.outcome(before, r)

            self.probe(f"amount `{raw}`: multipart submission", multipart_submit)

            def results(raw=raw):
                out = io.StringIO()
                writer = csv.writer(out)
                writer.writerow(["claim_number", "result", "bank_reference", "reason", "amount"])
                writer.writerow([paid_claim, "paid", f"REF{secrets.token_hex(4)}", "", raw])
                self.program.refresh_from_db()
                paid_before = self.program.paid
                r = self.http.post(
                    f"{self.base}/api/v1/staff/payout-batches/{batch}/results/",
                    files={"file": ("results.csv", out.getvalue().encode(), "text/csv")},
                    headers=self.token("finance"),
                )
                lines = (
                    r.json().get("lines")
                    if r.headers.get("Content-Type", "").startswith("application/json")
                    else None
                )
                line_codes = ", ".join(line["code"] for line in lines) if isinstance(lines, list) else ""
                self.program.refresh_from_db()
                status = Claim.objects.get(claim_number=paid_claim).status
                applied = "nothing applied" if self.program.paid == paid_before else "PAID"
                verdict = "refused" if r.status_code >= 400 else "accepted"
                return r.status_code, code_of(r), f"{verdict} [line: {line_codes}]; {applied}, claim {status}"

            self.probe(f"amount `{raw}`: bank results import (amount column)", results)
        for literal in ("1e400", "NaN", "-1"):

            def json_number(literal=literal):
                payload = {**claim_payload(code, invoice_amount=None), **self.staged_ids()}
                body = json.dumps(payload)[:-1] + f', "invoice_amount": {literal}}}'
                before = self.state()
                r = self.submit_json(body.encode())
                return r.status_code, code_of(r), self.outcome(before, r)

            self.probe(f"amount {literal} as a bare JSON number: JSON submission", json_number)

    def rate_limit(self, count: int) -> None:
        def lookups():
            client = requests.Session()
            client.mount("http://", SourceAddressAdapter("127.0.0.2"))
            statuses = []
            for i in range(count):
                r = client.post(
                    f"{self.base}/api/v1/claims/lookup/",
                    json={"claim_number": f"NOPE-{i:06d}", "id_number": make_id_number()},
                    headers={"X-Forwarded-For": f"10.{i // 250}.{i % 250}.{1 + i % 200}"},
                )
                statuses.append(r.status_code)
            last = r
            runs: list[list[int]] = []
            for s in statuses:
                if runs and runs[-1][0] == s:
                    runs[-1][1] += 1
                else:
                    runs.append([s, 1])
            seq = ", then ".join(f"{s} x{n}" for s, n in runs)
            first = statuses.index(429) + 1 if 429 in statuses else None
            said = f"first 429 at request {first}" if first else "NEVER throttled"
            return (
                last.status_code,
                code_of(last),
                f"{said} ({seq}); retry_after {last.json().get('retry_after', '-')}",
            )

        self.probe(f"{count} claim lookups, a new X-Forwarded-For on each (limit 30/min)", lookups)

    def audit_address(self) -> None:
        for forged in ("<script>alert(1)</script>", "not-an-ip"):

            def token_login(forged=forged):
                last = AuditLog.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
                r = self.http.post(
                    f"{self.base}/api/v1/auth/token/",
                    json={"username": "probe-reviewer", "password": PASSWORD},
                    headers={"X-Forwarded-For": forged},
                )
                row = AuditLog.objects.filter(pk__gt=last, action="api_token_issued").order_by("-pk").first()
                stored = row.ip_address if row else "no audit row"
                verdict = "logged in" if r.status_code == 200 else "refused"
                return r.status_code, code_of(r), f"{verdict}; audit row address {stored}"

            self.probe(f"staff token login, X-Forwarded-For: {forged}", token_login)

            def admin_form(forged=forged):
                r = self.admin_login(forged)
                verdict = "logged in (302 to the admin)" if r.status_code == 302 else "login page again"
                return (
                    r.status_code,
                    code_of(r),
                    f"{verdict}; admin logins are not audited, no address stored",
                )

            self.probe(f"admin login form, X-Forwarded-For: {forged}", admin_form)

    def nul_characters(self, correct_claim: str) -> None:
        code = self.program.code
        for name in NUL_FIELDS:

            def submit(name=name):
                payload = {**claim_payload(code), **self.staged_ids()}
                payload[name] = (payload.get(name) or "ab") + "\x00x"
                before = self.state()
                r = self.submit_json(json.dumps(payload).encode())
                return r.status_code, code_of(r), self.outcome(before, r)

            self.probe(f"NUL in `{name}`: JSON submission", submit)

        def lookup():
            r = self.http.post(
                f"{self.base}/api/v1/claims/lookup/",
                json={"claim_number": "AB\x00C", "id_number": make_id_number()},
            )
            return (
                r.status_code,
                code_of(r),
                f"refused [{fields_of(r)}]" if r.status_code >= 400 else "answered",
            )

        self.probe("NUL in `claim_number`: JSON lookup", lookup)
        reviewer = self.token("reviewer")
        urls: list[tuple[str, str, dict, dict | None]] = [
            ("GET", "/api/v1/claims/AB%00C/", {}, None),
            (
                "POST",
                "/api/v1/claims/AB%00C/withdraw/",
                {},
                {"id_number": make_id_number(), "phone_last4": "0000"},
            ),
            ("POST", "/api/v1/claims/AB%00C/correct/", {}, None),
            ("POST", f"/api/v1/claims/{correct_claim}/correct/?x=%00", {}, None),
            ("GET", "/api/v1/programs/x%00/", {}, None),
            ("GET", f"/api/v1/programs/{code}/quote?invoice_amount=1%00&fuel_type=nev", {}, None),
            ("GET", f"/api/v1/programs/{code}/ledger/?page=%00", {}, None),
            ("GET", "/claim/A%00B/", {}, None),
            ("GET", "/p/x%00/", {}, None),
            ("GET", "/api/v1/staff/claims/AB%00C/", reviewer, None),
            ("GET", "/api/v1/staff/claims/?q=A%00B", reviewer, None),
            ("GET", "/api/v1/staff/claims/?status=%00&program=%00&dealer=%00", reviewer, None),
        ]
        for method, path, headers, body in urls:

            def call(method=method, path=path, headers=headers, body=body):
                r = self.http.request(method, f"{self.base}{path}", headers=headers, json=body)
                verdict = "refused" if r.status_code >= 400 else "answered"
                return r.status_code, code_of(r), verdict

            self.probe(f"NUL in URL: {method} {path}", call)
        if self.admin is not None:
            for path in ("/admin/claims/claim/?q=A%00B", "/admin/claims/claim/AB%00C/change/"):

                def admin_call(path=path):
                    r = self.admin.get(f"{self.base}{path}", allow_redirects=False)
                    return r.status_code, code_of(r), "refused" if r.status_code >= 400 else "answered"

                self.probe(f"NUL in URL (admin session): GET {path}", admin_call)

    def nul_in_files_and_forms(self, batch: int, paid_claim: str) -> None:
        """NUL where it reaches the database by other routes: multipart and form bodies, CSV cells, login names."""
        code = self.program.code

        def multipart_field():
            before = self.state()
            r = self.http.post(
                f"{self.base}/api/v1/claims/",
                data=claim_payload(code, applicant_name="张\x00三"),
                files=self.small_files("nul"),
            )
            return r.status_code, code_of(r), self.outcome(before, r)

        self.probe("NUL in `applicant_name`: multipart submission", multipart_field)

        def multipart_filename():
            before = StagedUpload.objects.count()
            r = self.stage(
                "invoice", "in\x00voice.png", image_bytes(f"nul {secrets.token_hex(4)}"), "image/png"
            )
            staged = StagedUpload.objects.count() - before
            verdict = "accepted, staged" if r.status_code == 201 else "refused"
            return r.status_code, code_of(r), f"{verdict}; {staged} upload row(s) written"

        self.probe("NUL in an uploaded file's name: staged upload", multipart_filename)

        def form_lookup():
            r = self.http.post(
                f"{self.base}/api/v1/claims/lookup/",
                data={"claim_number": "AB\x00C", "id_number": make_id_number()},
            )
            return r.status_code, code_of(r), "refused" if r.status_code >= 400 else "answered"

        self.probe("NUL in `claim_number`: form-encoded lookup", form_lookup)
        for column, cell in (("claim_number", "AB\x00C"), ("bank_reference", "REF\x00X")):

            def results(column=column, cell=cell):
                row = {
                    "claim_number": paid_claim,
                    "result": "paid",
                    "bank_reference": "REF1",
                    "reason": "",
                    "amount": "",
                }
                row[column] = cell
                out = io.StringIO()
                writer = csv.DictWriter(out, fieldnames=list(row))
                writer.writeheader()
                writer.writerow(row)
                self.program.refresh_from_db()
                paid_before = self.program.paid
                r = self.http.post(
                    f"{self.base}/api/v1/staff/payout-batches/{batch}/results/",
                    files={"file": ("results.csv", out.getvalue().encode(), "text/csv")},
                    headers=self.token("finance"),
                )
                self.program.refresh_from_db()
                applied = "nothing applied" if self.program.paid == paid_before else "PAID"
                return (
                    r.status_code,
                    code_of(r),
                    f"{'refused' if r.status_code >= 400 else 'accepted'}; {applied}",
                )

            self.probe(f"NUL in the `{column}` cell: bank results import", results)

        def dealer_sales():
            text = (
                "dealer_credit_code,invoice_number,invoice_code,invoice_date,vin,invoice_amount\r\n"
                "9114118\x000000000001,1234\x005678,141002300111,2026-01-01,LSV\x00X,158000.00\r\n"
            )
            r = self.http.post(
                f"{self.base}/api/v1/staff/dealer-sales/",
                files={"file": ("sales.csv", text.encode(), "text/csv")},
                headers=self.token("reviewer"),
            )
            return (
                r.status_code,
                code_of(r),
                f"{'refused' if r.status_code >= 400 else 'accepted'}: {r.text[:80]}",
            )

        self.probe("NUL in the cells of a dealer sales CSV", dealer_sales)

        def token_login():
            r = self.http.post(
                f"{self.base}/api/v1/auth/token/",
                json={"username": "probe-\x00reviewer", "password": "x\x00"},
            )
            return r.status_code, code_of(r), "refused" if r.status_code >= 400 else "LOGGED IN"

        self.probe("NUL in the user name: staff token login", token_login)

        def full_number_post():
            r = self.http.post(
                f"{self.base}/api/v1/staff/claims/search/",
                json={"number": "11010119900101\x001234"},
                headers=self.token("reviewer"),
            )
            return r.status_code, code_of(r), "refused" if r.status_code >= 400 else "searched"

        self.probe("NUL in the number: POST full-number staff search", full_number_post)

    def odd_shapes(self) -> None:
        """Clumsy clients: wrong JSON shapes, and odd idempotency keys on an otherwise valid submission."""
        code = self.program.code
        bodies = {
            "a JSON array as the submission body": b"[]",
            "a JSON string as the submission body": b'"claim"',
            "objects and lists as field values: JSON submission": json.dumps(
                {**claim_payload(code, applicant_name=None), "applicant_name": {"a": [1]}, "vin": [1, 2]}
                | self.staged_ids()
            ).encode(),
        }
        for label, body in bodies.items():

            def submit(body=body):
                before = self.state()
                r = self.submit_json(body)
                return r.status_code, code_of(r), self.outcome(before, r)

            self.probe(label, submit)
        # Fresh keys each run (the database outlives runs); the unique part first, as the server keeps only the
        # first 128 characters of a key.
        fresh = secrets.token_hex(8)
        keys = (("a 200-character", fresh + "k" * 184), ("a Latin-1 (non-ASCII)", f"clé-é-{fresh}"))
        for label, key in keys:

            def keyed(key=key):
                before = self.state()
                r = self.http.post(
                    f"{self.base}/api/v1/claims/",
                    data=json.dumps({**claim_payload(code), **self.staged_ids()}).encode(),
                    headers={"Content-Type": "application/json", "Idempotency-Key": key},
                )
                if r.status_code == 201:
                    self._staged = None  # those uploads now belong to a claim
                return r.status_code, code_of(r), self.outcome(before, r)

            self.probe(f"{label} Idempotency-Key on a submission", keyed)

    def file_as_id_number(self, correct_claim: str) -> None:
        def correct():
            before = Claim.objects.get(claim_number=correct_claim)
            r = self.http.post(
                f"{self.base}/api/v1/claims/{correct_claim}/correct/",
                files={"id_number": ("id.txt", b"110101199001011234", "text/plain")},
            )
            after = Claim.objects.get(claim_number=correct_claim)
            unchanged = "claim unchanged" if after.status == before.status else f"status -> {after.status}"
            return r.status_code, code_of(r), f"refused [{fields_of(r)}]; {unchanged} ({after.status})"

        self.probe("a file as `id_number`: correction API (multipart)", correct)

    def admin_pages(self) -> None:
        if self.admin is None:
            self.rows.append(Row("admin pages", 0, "-", "skipped: the admin login failed"))
            return
        for path in (
            "/admin/claims/claim/abc/change/",
            "/admin/claims/claim/99999999999999999999999/change/",
        ):

            def get(path=path):
                r = self.admin.get(f"{self.base}{path}", allow_redirects=False)
                where = f" to {r.headers.get('Location')}" if r.is_redirect else ""
                return (
                    r.status_code,
                    code_of(r),
                    f"{'refused' if r.status_code >= 400 else 'redirected'}{where}",
                )

            self.probe(f"GET {path} as a logged-in reviewer", get)

    def full_number_search(self) -> None:
        number = make_id_number()

        def api():
            r = self.http.get(
                f"{self.base}/api/v1/staff/claims/", params={"q": number}, headers=self.token("reviewer")
            )
            return r.status_code, code_of(r), "refused; the number is not searched by GET"

        self.probe("GET /api/v1/staff/claims/?q=<18-character ID number>", api)
        if self.admin is not None:

            def admin():
                r = self.admin.get(
                    f"{self.base}/admin/claims/claim/", params={"q": number}, allow_redirects=False
                )
                refused = get_search_refused().message in r.text
                shown = "refused on the page (warning shown, no claims listed)" if refused else "SEARCHED"
                return r.status_code, code_of(r), f"{shown}; the number is not searched by GET"

            self.probe("GET /admin/claims/claim/?q=<18-character ID number>", admin)

    def oversized_body(self, megabytes: int) -> None:
        def send():
            host, port = self.base.split("//", 1)[1].split(":")
            size = megabytes * 1024 * 1024
            head = (
                f"POST /api/v1/claims/ HTTP/1.1\r\nHost: {host}:{port}\r\n"
                "Content-Type: multipart/form-data; boundary=xyz\r\n"
                f"Content-Length: {size}\r\nConnection: close\r\n\r\n"
            ).encode()
            sent = 0
            raw = b""
            chunk = b"x" * 65536
            with socket.create_connection((host, int(port)), timeout=30) as sock:
                sock.sendall(head)
                # The server should answer from the headers alone: wait for that before sending any of the body,
                # then (if it has not answered) send the body until it does, and read the answer to its end.
                select.select([sock], [], [], 2.0)
                while sent < size and not select.select([sock], [], [], 0)[0]:
                    try:
                        sent += sock.send(chunk)
                    except OSError:
                        break  # the server closed the connection
                while True:
                    try:
                        data = sock.recv(65536)
                    except OSError:
                        break
                    if not data:
                        break
                    raw += data
            head_bytes, _sep, body = raw.partition(b"\r\n\r\n")
            status = int(head_bytes.split(b" ", 2)[1]) if head_bytes.startswith(b"HTTP/") else 0
            found = re.search(rb'"code":\s*"([^"]+)"', body)
            code = found.group(1).decode() if found else "-"
            content_type = re.search(rb"(?im)^content-type:\s*(\S+)", head_bytes)
            kind = content_type.group(1).decode() if content_type else "no content type"
            return (
                status,
                code,
                (
                    f"refused ({kind}, {len(body)} bytes) after {sent / 1024 / 1024:.1f} MB "
                    f"of the {megabytes} MB body had been sent"
                ),
            )

        self.probe(f"a {megabytes} MB request body (over the cap)", send)


def print_table(rows: list[Row], limit_mb: int, resets: bool) -> None:
    peak = "peak RSS during the probe" if resets else "peak RSS since the workers started"
    print(f"| probe | HTTP status | code | what happened | {peak} |")
    print("|---|---|---|---|---|")
    for row in rows:
        memory = f"workers {row.worker_mb} MB" if row.worker_mb else "-"
        if row.child_mb:
            memory += f"; parse child {row.child_mb} MB"
        happened = row.happened.replace("|", "\\|").replace("\n", " ")
        probe = row.probe.replace("|", "\\|")
        print(f"| {probe} | {row.status or '-'} | `{row.code}` | {happened} | {memory} |")
    print()
    print(f"limit: no 5xx, no probe without an answer, every server process under {limit_mb} MB")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--lookups", type=int, default=35, help="requests of the rate-limit probe")
    parser.add_argument("--body-mb", type=int, default=60, help="size of the oversized request body")
    parser.add_argument("--rss-limit-mb", type=int, default=300)
    parser.add_argument("--keep-data", action="store_true", help=f"keep the data folder ({DATA_DIR})")
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    stamp = time.strftime("%m%d%H%M%S")
    program, _created = program_load(program_parse(program_document(f"probe-{stamp}", budget="800000.00")))
    for role, username in (
        ("reviewer", "probe-reviewer"),
        ("finance", "probe-finance"),
        ("finance", "probe-finance2"),
    ):
        staff_create(username, role, PASSWORD)

    server = start_server(args.port)
    watch = MemoryWatch(server.pid)
    probes = Probes(f"http://127.0.0.1:{args.port}", program, watch)
    try:
        print(
            f"server up (pid {server.pid}, workers {sorted(watch.workers())}); program {program.code}",
            file=sys.stderr,
        )
        probes.login_tokens()
        batch, paid_claim = probes.approved_batch()
        correct_claim = probes.returned_claim()
        probes.documents()
        probes.amounts(batch, paid_claim)
        probes.audit_address()
        probes.nul_characters(correct_claim)
        probes.nul_in_files_and_forms(batch, paid_claim)
        probes.odd_shapes()
        probes.file_as_id_number(correct_claim)
        probes.admin_pages()
        probes.full_number_search()
        probes.oversized_body(args.body_mb)
        probes.rate_limit(args.lookups)
        probes.rows.append(
            Row(
                "infrastructure failure answers JSON 503",
                0,
                "-",
                "skipped: needs the database or broker stopped under a running server "
                "(covered by tests/faults/)",
            )
        )
        restarted = watch.seen_workers - watch.workers()
    finally:
        server.terminate()
        server.wait(15)
        if not args.keep_data:
            shutil.rmtree(DATA_DIR, ignore_errors=True)

    print_table(probes.rows, args.rss_limit_mb, watch.can_reset)
    judged = [row for row in probes.rows if not row.happened.startswith("skipped")]
    failures = [row for row in judged if row.status >= 500 or row.status == 0]
    heavy = [row for row in judged if max(row.worker_mb, row.child_mb) > args.rss_limit_mb]
    if restarted:
        print(f"workers replaced during the run (killed or timed out): {sorted(restarted)}")
    print(f"{len(failures)} probe(s) with a 5xx or no answer; {len(heavy)} over {args.rss_limit_mb} MB")
    return 1 if failures or heavy or restarted else 0


if __name__ == "__main__":
    sys.exit(main())
