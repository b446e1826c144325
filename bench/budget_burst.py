"""Fire N claim submissions from C concurrent clients at a running server and measure it.

Starts nothing itself. Example (PostgreSQL behind gunicorn with 2 workers):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/subsidy_bench .venv/bin/python manage.py migrate
    DATABASE_URL=... .venv/bin/python bench/budget_burst.py --make-program bench-burst --budget 222000.00
    DATABASE_URL=... .venv/bin/gunicorn -w 2 -b 127.0.0.1:8765 subsidy.wsgi
    .venv/bin/python bench/budget_burst.py --url http://127.0.0.1:8765 --program bench-burst -n 200 -c 20

Prints claims per second, p50/p95 latency, the status counts, the overspend (must be 0.00) and, for comparison,
the same server's /healthz throughput at the same concurrency.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")


def _django():
    import django

    django.setup()


def make_program(code: str, budget: str) -> None:
    """Create (or reset the budget of) an open program for the run, in the database the server uses."""
    _django()
    from claims.programs.services import program_load, program_parse
    from tests.factories import program_document

    program, created = program_load(program_parse(program_document(code, budget=budget)))
    print(f"{'created' if created else 'updated'} program {program.code} with budget {program.budget_total}")


def small_png(tag: str) -> bytes:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (480, 320), "white")
    ImageDraw.Draw(img).text((10, 10), tag, fill="black")
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def run_load(fn, n: int, c: int) -> tuple[float, list[float], list]:
    latencies: list[float] = []
    results: list = []
    lock = threading.Lock()
    counter = iter(range(n))

    def worker():
        import requests

        session = requests.Session()
        while True:
            with lock:
                i = next(counter, None)
            if i is None:
                return
            start = time.perf_counter()
            result = fn(session, i)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
                results.append(result)

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=c) as pool:
        for _ in range(c):
            pool.submit(worker)
    return time.perf_counter() - start, latencies, results


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--program", default="bench-burst")
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("-c", type=int, default=20)
    parser.add_argument(
        "--make-program", metavar="CODE", help="create an open program in DATABASE_URL and exit"
    )
    parser.add_argument("--budget", default="222000.00")
    args = parser.parse_args()
    if args.make_program:
        make_program(args.make_program, args.budget)
        return 0

    import requests

    _django_light()
    from tests.factories import claim_payload

    base = args.url.rstrip("/")
    before = requests.get(f"{base}/api/v1/programs/{args.program}/", timeout=10).json()
    payloads = [claim_payload(args.program) for _ in range(args.n)]
    images = [
        {
            k: small_png(f"{k} {i}")
            for k in ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip")
        }
        for i in range(args.n)
    ]

    def submit(session, i):
        files = {k: (f"{k}.png", v, "image/png") for k, v in images[i].items()}
        r = session.post(f"{base}/api/v1/claims/", data=payloads[i], files=files, timeout=120)
        return r.status_code, (
            r.json().get("status")
            if r.headers.get("content-type", "").startswith("application/json")
            else None
        )

    elapsed, latencies, results = run_load(submit, args.n, args.c)
    after = requests.get(f"{base}/api/v1/programs/{args.program}/", timeout=10).json()
    budget = after["budget"]
    overspend = max(
        Decimal("0.00"), Decimal(budget["reserved"]) + Decimal(budget["paid"]) - Decimal(budget["total"])
    )
    codes: dict = {}
    for status, claim_status in results:
        codes[(status, claim_status)] = codes.get((status, claim_status), 0) + 1

    h_elapsed, h_lat, h_results = run_load(
        lambda s, i: s.get(f"{base}/healthz", timeout=10).status_code, args.n, args.c
    )

    print(f"submissions       n={args.n} c={args.c}")
    print(f"  claims/s        {args.n / elapsed:.1f}")
    print(f"  p50 latency     {statistics.median(latencies) * 1000:.0f} ms")
    print(f"  p95 latency     {percentile(latencies, 95) * 1000:.0f} ms")
    print(f"  answers         {', '.join(f'{k[0]} {k[1]}: {v}' for k, v in sorted(codes.items(), key=str))}")
    print(f"  budget before   {before['budget']}")
    print(f"  budget after    {budget}  waitlist {after['waitlist_length']}")
    print(f"  overspend       {overspend:.2f}")
    print(f"healthz           n={args.n} c={args.c}")
    print(f"  requests/s      {args.n / h_elapsed:.1f}")
    print(f"  p50 latency     {statistics.median(h_lat) * 1000:.0f} ms")
    print(f"  p95 latency     {percentile(h_lat, 95) * 1000:.0f} ms")
    print(f"  non-200         {sum(1 for s in h_results if s != 200)}")
    return 1 if overspend > 0 else 0


def _django_light():
    """The payload generator uses the validators' check-digit helpers, which need settings loaded."""
    _django()


if __name__ == "__main__":
    sys.exit(main())
