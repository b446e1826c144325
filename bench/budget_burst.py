"""The launch-day burst: N claim submissions from C concurrent clients, next to the bare limit of the stack.

In one run, against one PostgreSQL database (DATABASE_URL, the one the server uses):

- `multipart`: each submission carries its five images (the old path: image work inside the deciding request);
- `staged`: the five documents of every claim are uploaded first (untimed, POST /api/v1/uploads/), then the
  timed burst of small JSON submissions naming them;
- the bare limit: a minimal view (mounted only with BENCH_BARE_VIEW=1) doing only the budget row's conditional
  UPDATE and a ledger INSERT, through the same gunicorn; and raw `pgbench` running the same two statements
  when it is installed;
- `/healthz` at the same concurrency;
- a staged upload of a 4 MB phone photo (4032x3024 JPEG) with C clients uploading.

Each mode gets its own fresh program whose budget covers 37 of the N claims (`--budget`); after each burst the
overspend (must be 0.00), gapless claim numbers and `check_budget` are checked.

    createdb -h 127.0.0.1 -U postgres subsidy_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/subsidy_bench SUBSIDY_DATA_DIR=/tmp/subsidy-bench
    export CELERY_BROKER_URL=redis://127.0.0.1:6379/14 CACHE_URL=redis://127.0.0.1:6379/13  # as in production
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/budget_burst.py --start-server -n 200 -c 20

`--start-server` runs `gunicorn -w 2 subsidy.wsgi` itself (with BENCH_BARE_VIEW=1 and rate limits and staging
caps raised for one benchmarking address); without it, start the server the same way and pass `--url`.
The timed bursts go through one asyncio client (a few percent of one core), so the client's own cost stays out of
the figures as far as one machine allows.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from bench.gunicorn_server import gunicorn_start  # noqa: E402
from claims.models import Claim, LedgerEntry, Program  # noqa: E402
from claims.programs.services import program_load, program_parse  # noqa: E402
from tests.factories import claim_payload, program_document  # noqa: E402

KINDS = ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip")
SERVER_ENV = {
    "BENCH_BARE_VIEW": "1",
    "SUBMIT_RATE": "1000000/min",
    "UPLOAD_RATE": "1000000/min",
    "CHECK_RATE": "1000000/min",
    "STAGED_UPLOAD_MAX_COUNT_PER_ADDRESS": "1000000",
    "STAGED_UPLOAD_MAX_BYTES_PER_ADDRESS": str(100 * 1024**3),
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
}


def make_program(code: str, budget: str) -> Program:
    program, _created = program_load(program_parse(program_document(code, budget=budget)))
    return program


def small_png(tag: str) -> bytes:
    img = Image.new("RGB", (480, 320), "white")
    ImageDraw.Draw(img).text((10, 10), tag, fill="black")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def phone_photos(count: int) -> list[bytes]:
    """Distinct ~4 MB 12-megapixel JPEGs, like a phone camera's."""
    import numpy as np

    rng = np.random.default_rng(7)
    w, h = 4032, 3024
    base = Image.fromarray(rng.integers(0, 255, (h // 16, w // 16, 3), dtype=np.uint8)).resize((w, h))
    noisy = np.asarray(base).astype(np.int16) + rng.integers(-12, 12, (h, w, 3))
    photo = Image.fromarray(noisy.clip(0, 255).astype(np.uint8))
    out = []
    for i in range(count):
        img = photo.copy()
        ImageDraw.Draw(img).text((50, 50), f"photo {i}", fill="white")
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=90)
        out.append(buf.getvalue())
    return out


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


@dataclass
class Answer:
    status: int
    body: bytes

    def json(self) -> dict:
        try:
            return json.loads(self.body)
        except ValueError:
            return {}


def prepared(method: str, url: str, **kwargs) -> bytes:
    """One HTTP/1.1 request as bytes (requests builds the body: JSON or multipart)."""
    req = requests.Request(method, url, **kwargs).prepare()
    parts = urlsplit(req.url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    head = [f"{req.method} {path} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    body = req.body or b""
    if isinstance(body, str):
        body = body.encode()
    headers = {k: v for k, v in req.headers.items() if k.lower() not in ("host", "connection")}
    headers["Content-Length"] = str(len(body))
    head += [f"{k}: {v}" for k, v in headers.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


async def _exchange(host: str, port: int, request: bytes) -> Answer:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        raw = await reader.read()  # Connection: close: the answer ends with the connection
    finally:
        writer.close()
    head, _sep, body = raw.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    return Answer(status, body)


def timed_load(base: str, requests_bytes: list[bytes], c: int) -> tuple[float, list[float], list[Answer]]:
    """The timed bursts: one asyncio client with c connections in flight, the same for every mode.

    A thread per client with `requests` spends more CPU than the server it measures (it topped out at 150-290
    requests per second here, on the same two cores as the server); this client costs a fraction of that.
    """
    parts = urlsplit(base)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    latencies: list[float] = []
    answers: list[Answer] = [Answer(0, b"")] * len(requests_bytes)
    pending = enumerate(requests_bytes)

    async def client() -> None:
        for i, request in pending:
            start = time.perf_counter()
            answers[i] = await _exchange(host, port, request)
            latencies.append(time.perf_counter() - start)

    async def all_clients() -> float:
        start = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(c)))
        return time.perf_counter() - start

    return asyncio.run(all_clients()), latencies, answers


def line(label: str, n: int, elapsed: float, lat: list[float]) -> dict:
    figures = {
        "per_s": n / elapsed,
        "p50": statistics.median(lat) * 1000,
        "p95": percentile(lat, 95) * 1000,
    }
    print(
        f"  {label:<28} {figures['per_s']:7.1f}/s   p50 {figures['p50']:6.0f} ms   p95 {figures['p95']:6.0f} ms"
    )
    return figures


def verify(program: Program) -> tuple[Decimal, bool, int]:
    """Overspend, gapless numbers and check_budget's exit status for one program after its burst."""
    program.refresh_from_db()
    overspend = max(Decimal("0.00"), program.reserved + program.paid - program.budget_total)
    seqs = sorted(Claim.objects.filter(program=program).values_list("seq", flat=True))
    gapless = seqs == list(range(1, len(seqs) + 1))
    try:
        call_command("check_budget", program.code, stdout=io.StringIO(), stderr=io.StringIO())
        rc = 0
    except SystemExit as exc:
        rc = int(exc.code or 0)
    return overspend, gapless, rc


def burst(base: str, mode: str, n: int, c: int, budget: str, stamp: str) -> tuple[dict, bool]:
    program = make_program(f"bench-{stamp}-{mode}", budget)
    payloads = [claim_payload(program.code) for _ in range(n)]
    images = [{k: small_png(f"{mode} {k} {i}") for k in KINDS} for i in range(n)]
    print(f"{mode} submissions (program {program.code}, budget {program.budget_total}, n={n}, c={c})")
    submit_url = f"{base}/api/v1/claims/"
    if mode == "staged":
        ids: list[dict[str, str]] = [{} for _ in range(n)]
        u_elapsed = 0.0
        for kind in KINDS:
            uploads = [
                prepared(
                    "POST",
                    f"{base}/api/v1/uploads/",
                    data={"kind": kind},
                    files={"file": (f"{kind}.png", images[i][kind], "image/png")},
                )
                for i in range(n)
            ]
            elapsed, _lat, answers = timed_load(base, uploads, c)
            u_elapsed += elapsed
            for i, answer in enumerate(answers):
                if answer.status == 201:
                    ids[i][f"{kind}_upload"] = answer.json()["upload_id"]
        failed = sum(1 for i in range(n) if len(ids[i]) != len(KINDS))
        print(
            f"  staging (untimed)            {n * 5} uploads in {u_elapsed:.1f} s, {failed} claims not staged"
        )
        bodies = [prepared("POST", submit_url, json={**payloads[i], **ids[i]}) for i in range(n)]
    else:
        bodies = [
            prepared(
                "POST",
                submit_url,
                data=payloads[i],
                files={k: (f"{k}.png", v, "image/png") for k, v in images[i].items()},
            )
            for i in range(n)
        ]
    elapsed, lat, answers = timed_load(base, bodies, c)
    results = [(a.status, a.json().get("status") or a.json().get("code")) for a in answers]
    figures = line("submissions", n, elapsed, lat)
    codes: dict = {}
    for key in results:
        codes[key] = codes.get(key, 0) + 1
    overspend, gapless, rc = verify(program)
    program.refresh_from_db()
    print(
        f"  answers                      {', '.join(f'{k[0]} {k[1]}: {v}' for k, v in sorted(codes.items(), key=str))}"
    )
    print(f"  budget after                 reserved {program.reserved} of {program.budget_total}")
    print(f"  overspend                    {overspend:.2f}")
    print(f"  numbers gapless              {'yes' if gapless else 'NO'}")
    print(f"  check_budget                 {'clean' if rc == 0 else 'DIFFERENCE'}")
    return figures, overspend == 0 and gapless and rc == 0


def bare_limit(base: str, n: int, c: int, stamp: str) -> dict:
    program = make_program(f"bench-{stamp}-bare", "99999999.00")
    url = f"{base}/bench/bare-reserve/{program.code}/"
    elapsed, lat, answers = timed_load(base, [prepared("POST", url)] * n, c)
    bad = sum(1 for a in answers if a.status != 201)
    figures = line("bare UPDATE+INSERT view", n, elapsed, lat)
    if bad:
        print(f"  bare view: {bad} answers were not 201 (is BENCH_BARE_VIEW=1 set on the server?)")
    return figures


def pgbench(c: int, seconds: int, stamp: str) -> dict | None:
    exe = shutil.which("pgbench")
    if exe is None or connection.vendor != "postgresql":
        print("  pgbench                      not installed (or not PostgreSQL): skipped")
        return None
    program = make_program(f"bench-{stamp}-pgbench", "99999999.00")
    program_table = Program._meta.db_table
    ledger_table = LedgerEntry._meta.db_table
    script = (
        f"WITH r AS (UPDATE {program_table} SET reserved = reserved + 0.01 WHERE id = {program.pk} "
        f"AND reserved + paid + 0.01 <= budget_total RETURNING id, reserved, paid, budget_total) "
        f"INSERT INTO {ledger_table} (program_id, kind, amount, reserved_after, paid_after, budget_after, "
        f"note, created_at) SELECT id, 'reserve', 0.01, reserved, paid, budget_total, 'pgbench', now() FROM r;\n"
    )
    db = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or ""}
    with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as f:
        f.write(script)
    cmd = [exe, "-n", "-c", str(c), "-j", "2", "-T", str(seconds), "-f", f.name, "-r"]
    cmd += [
        "-h",
        db.get("HOST") or "127.0.0.1",
        "-p",
        str(db.get("PORT") or 5432),
        "-U",
        db.get("USER") or "postgres",
    ]
    cmd.append(db["NAME"])
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    os.unlink(f.name)
    tps = re.search(r"tps = ([\d.]+)", out.stdout)
    avg = re.search(r"latency average = ([\d.]+) ms", out.stdout)
    if not tps:
        print(f"  pgbench failed: {out.stderr.strip()[:300]}")
        return None
    figures = {"per_s": float(tps.group(1)), "avg": float(avg.group(1)) if avg else 0.0}
    print(f"  {'raw pgbench (same SQL)':<28} {figures['per_s']:7.1f}/s   average {figures['avg']:.1f} ms")
    return figures


def photo_uploads(base: str, n: int, c: int) -> dict:
    photos = phone_photos(min(n, 20))
    size = sum(len(p) for p in photos) / len(photos) / 1024**2

    distinct = [
        prepared(
            "POST",
            f"{base}/api/v1/uploads/",
            data={"kind": "vehicle_license"},
            files={"file": ("IMG.jpg", photo, "image/jpeg")},
        )
        for photo in photos
    ]
    elapsed, lat, answers = timed_load(base, [distinct[i % len(distinct)] for i in range(n)], c)
    results = [a.status for a in answers]
    figures = line(f"4 MB photo upload ({size:.1f} MB)", n, elapsed, lat)
    bad = sum(1 for s in results if s != 201)
    if bad:
        print(f"  {bad} uploads not accepted")
    return figures


def goals(staged: dict | None, bare: dict, health: dict, photos: dict | None, clean: bool) -> None:
    """The issue's goals for this run, each with its verdict."""

    def verdict(label: str, met: bool) -> None:
        print(f"  {label:<58} {'met' if met else 'NOT MET'}")

    print("goals")
    if staged:
        verdict(f"staged submissions >= 100/s ({staged['per_s']:.1f}/s)", staged["per_s"] >= 100)
        share = staged["per_s"] / bare["per_s"] * 100
        verdict(f"staged >= 50% of the bare view ({share:.1f}%)", share >= 50)
        times = staged["p95"] / health["p95"]
        verdict(f"staged p95 <= 8x /healthz p95 ({times:.1f}x)", times <= 8)
    verdict("overspend 0.00, numbers gapless, check_budget clean", clean)
    if photos:
        verdict(f"4 MB photo upload p95 <= 1.5 s ({photos['p95'] / 1000:.2f} s)", photos["p95"] <= 1500)


def start_server(port: int, threads: int) -> subprocess.Popen:
    env = {**os.environ, **SERVER_ENV}
    # DEBUG is off (as in production), so the secrets this process generated for the data folder are passed on.
    env.setdefault("SECRET_KEY", settings.SECRET_KEY)
    env.setdefault("PII_HASH_KEY", settings.PII_HASH_KEY)
    fernet = Path(settings.DATA_DIR) / "keys" / "pii_fernet_keys"
    if "PII_ENCRYPTION_KEYS" not in env and fernet.exists():
        env["PII_ENCRYPTION_KEYS"] = fernet.read_text().strip()
    return gunicorn_start(port, env, threads=threads)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8765")
    parser.add_argument("--start-server", action="store_true", help="run gunicorn -w 2 on --url's port")
    parser.add_argument(
        "--threads", type=int, default=1, help="gunicorn threads per worker (1: sync workers)"
    )
    parser.add_argument("--mode", choices=("multipart", "staged", "both"), default="both")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("-c", type=int, default=20)
    parser.add_argument("--budget", default="222000.00", help="covers 37 claims of 6000.00")
    parser.add_argument("--bare-n", type=int, default=2000)
    parser.add_argument("--pgbench-seconds", type=int, default=10)
    parser.add_argument("--photos", type=int, default=100, help="4 MB photo uploads (0: skip)")
    args = parser.parse_args()
    base = args.url.rstrip("/")
    server = start_server(int(base.rsplit(":", 1)[1]), args.threads) if args.start_server else None
    stamp = time.strftime("%H%M%S")
    ok = True
    try:
        print(f"load average before: {os.getloadavg()[0]:.2f} (other processes share this machine)")
        if server:
            print(f"server: gunicorn -w 2 --threads {args.threads}, {connection.vendor}")
        modes = ("multipart", "staged") if args.mode == "both" else (args.mode,)
        results = {}
        for mode in modes:
            results[mode], fine = burst(base, mode, args.n, args.c, args.budget, stamp)
            ok = ok and fine
        print(f"bare limit and health (c={args.c})")
        bare = bare_limit(base, args.bare_n, args.c, stamp)
        pg = pgbench(args.c, args.pgbench_seconds, stamp)
        h_elapsed, h_lat, _ = timed_load(base, [prepared("GET", f"{base}/healthz")] * args.bare_n, args.c)
        health = line("/healthz", args.bare_n, h_elapsed, h_lat)
        print("ratios")
        for mode, figures in results.items():
            print(
                f"  {mode:<28} {figures['per_s'] / bare['per_s'] * 100:5.1f}% of the bare view"
                + (f", {figures['per_s'] / pg['per_s'] * 100:5.1f}% of pgbench" if pg else "")
                + f"; p95 {figures['p95'] / health['p95']:.1f}x /healthz p95"
            )
        photos = None
        if args.photos:
            print(f"staged uploads (c={args.c})")
            photos = photo_uploads(base, args.photos, args.c)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        goals(results.get("staged"), bare, health, photos, ok)
    finally:
        if server:
            server.terminate()
            server.wait(10)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
