"""Export N payouts (default 100,000) to the bank file in CSV and XLSX, beside a bare `csv` writer and bare openpyxl
write-only writing the same rows, and print seconds and peak memory for each.

    .venv/bin/python bench/payout_export.py            # writer level: the same generated rows for all four
    .venv/bin/python bench/payout_export.py --db       # also end to end: N payouts in a scratch SQLite database,
                                                       # exported by the batch-file service (query + decrypt + write)

Every case runs in a fresh subprocess (same imports for all), timed without tracing; peak memory is the process's
peak RSS (ru_maxrss) and, separately, the tracemalloc peak of the export itself. Goals: CSV <= 2x bare,
XLSX <= 1.5x bare, peak <= 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
COLUMNS = ("claim_number", "payee_name", "account_number", "bank_name", "amount", "purpose")


def rows(n: int):
    """The same rows for every case, generated lazily (nothing held in memory)."""
    amounts = (
        Decimal("2500.00"),
        Decimal("3000.00"),
        Decimal("3500.00"),
        Decimal("5000.00"),
        Decimal("6000.00"),
    )
    for i in range(1, n + 1):
        number = f"FY23-{i:06d}"
        yield (
            number,
            "张三",
            f"6217{i:015d}",
            "中国建设银行汾阳支行",
            amounts[i % 5],
            f"汽车消费补贴 {number}",
        )


def _setup_django(data_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")
    os.environ["SUBSIDY_DATA_DIR"] = data_dir
    import django

    django.setup()


def case_bare_csv(path: Path, n: int) -> None:
    import csv

    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for row in rows(n):
            w.writerow(row)


def case_bare_xlsx(path: Path, n: int) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("payouts")
    ws.append(COLUMNS)
    for row in rows(n):
        ws.append(row)
    wb.save(path)


def case_ours(fmt: str):
    def run(path: Path, n: int) -> None:
        from claims.payouts.bank_files import write_bank_file

        write_bank_file(path, fmt, rows(n))

    return run


def case_db(fmt: str):
    def run(path: Path, n: int) -> None:
        from django.contrib.auth import get_user_model
        from django.db import connection

        from claims.payouts.bank_files import batch_file

        user, batch_id = json.loads(os.environ["BENCH_DB_STATE"])
        # Forget the file a previous run wrote (a scratch database: the append-only rule does not matter here).
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM claims_payoutbankfile WHERE batch_id = %s AND fmt = %s", [batch_id, fmt]
            )
        return batch_file(batch_id, fmt, get_user_model().objects.get(pk=user)).path

    return run


CASES = {
    "bare_csv": case_bare_csv,
    "ours_csv": case_ours("csv"),
    "bare_xlsx": case_bare_xlsx,
    "ours_xlsx": case_ours("xlsx"),
    "db_csv": case_db("csv"),
    "db_xlsx": case_db("xlsx"),
}


def child(case: str, n: int, out_dir: str, trace: bool) -> None:
    import resource

    _setup_django(out_dir)
    path = Path(out_dir) / f"{case}.{'csv' if case.endswith('csv') else 'xlsx'}"
    fn = CASES[case]
    if trace:
        import tracemalloc

        tracemalloc.start()
    start = time.perf_counter()
    path = fn(path, n) or path
    seconds = time.perf_counter() - start
    traced = tracemalloc.get_traced_memory()[1] if trace else None
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    print(
        json.dumps(
            {
                "seconds": seconds,
                "rss_mb": peak_rss,
                "traced_mb": traced / 2**20 if traced else None,
                "bytes": path.stat().st_size,
            }
        )
    )


def run_case(case: str, n: int, out_dir: str, env: dict) -> dict:
    result = {}
    for trace in (False, True):
        cmd = [sys.executable, __file__, "--child", case, "-n", str(n), "--dir", out_dir] + (
            ["--trace"] if trace else []
        )
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
        if proc.returncode:
            print(f"{case} failed:\n{proc.stderr[-3000:]}", file=sys.stderr)
            return {"seconds": float("nan"), "rss_mb": float("nan"), "traced_mb": float("nan"), "bytes": 0}
        data = json.loads(proc.stdout.strip().splitlines()[-1])
        if trace:
            result["traced_mb"] = data["traced_mb"]
        else:
            result.update(seconds=data["seconds"], rss_mb=data["rss_mb"], bytes=data["bytes"])
    return result


def prepare_db(n: int, out_dir: str, env: dict) -> dict:
    """A scratch SQLite database with one approved batch of n payouts (bulk-inserted; encryption included)."""
    env = {**env, "DATABASE_URL": f"sqlite:///{out_dir}/bench.sqlite3"}
    subprocess.run([sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"], env=env, check=True, cwd=ROOT)
    code = f"""
import datetime as dt, json
from decimal import Decimal
from django.utils import timezone
from claims.models import Claim, Payout, PayoutBatch, Program
from claims.crypto import encrypt, mask
from tests.factories import make_program, make_staff
p = make_program("bench-export", budget="{n * 7000}.00")
a, b = make_staff("bench-a", "finance"), make_staff("bench-b", "finance")
now = timezone.now(); today = dt.date.today()
token_id, token_acct = encrypt("141182199001011234"), encrypt("6217000000000000000")
claims = [Claim(program=p, seq=i, claim_number=f"{{p.claim_prefix}}-{{i:06d}}", status="approved",
    applicant_name="张三", id_number="x", id_number_hash=str(i), phone="x", phone_hash="x", id_number_masked="x",
    phone_masked="x", fuel_type="nev", vin=f"V{{i:016d}}", plate_number="x", invoice_number=f"{{i:08d}}",
    invoice_date=today, invoice_amount=Decimal("158000.00"), dealer_credit_code="x", license_issue_date=today,
    pos_amount=Decimal("30000.00"), pos_date=today, bank_name="中国建设银行汾阳支行", bank_account="x",
    bank_account_hash="x", bank_account_masked="x", account_holder="张三", tier_position=3,
    subsidy_amount=Decimal("6000.00"), submitted_at=now) for i in range(1, {n} + 1)]
Claim.objects.bulk_create(claims, batch_size=5000)
batch = PayoutBatch.objects.create(program=p, created_by=a, approved_by=b, status="approved", count={n},
    total=Decimal("6000.00") * {n})
ids = Claim.objects.filter(program=p).order_by("id").values_list("id", flat=True)
Payout.objects.bulk_create((Payout(claim_id=cid, program=p, amount=Decimal("6000.00"), payee_name="张三",
    bank_name="中国建设银行汾阳支行", bank_account=f"6217{{cid:015d}}", bank_account_masked="6217***", batch=batch,
    status="batched") for cid in ids.iterator()), batch_size=5000)
print(json.dumps([a.pk, batch.pk]))
"""
    proc = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "shell", "-c", code],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    if proc.returncode:
        raise SystemExit(proc.stderr[-3000:])
    env["BENCH_DB_STATE"] = proc.stdout.strip().splitlines()[-1]
    return env


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-n", type=int, default=100_000)
    parser.add_argument("--db", action="store_true", help="also export from a scratch database (end to end)")
    parser.add_argument("--child")
    parser.add_argument("--dir")
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args.child, args.n, args.dir, args.trace)

    out_dir = tempfile.mkdtemp(prefix="payout-export-")
    env = {**os.environ, "SUBSIDY_DATA_DIR": out_dir, "DJANGO_SETTINGS_MODULE": "subsidy.settings"}
    env.pop("DATABASE_URL", None) if args.db else None
    results = {
        case: run_case(case, args.n, out_dir, env)
        for case in ("bare_csv", "ours_csv", "bare_xlsx", "ours_xlsx")
    }
    if args.db:
        db_env = prepare_db(args.n, out_dir, env)
        for case in ("db_csv", "db_xlsx"):
            results[case] = run_case(case, args.n, out_dir, db_env)

    print(f"{args.n:,} payouts")
    print(f"{'case':<10} {'seconds':>8} {'vs bare':>8} {'peak RSS MB':>12} {'traced MB':>10} {'file MB':>8}")
    for case, r in results.items():
        bare = results["bare_csv" if case.endswith("csv") else "bare_xlsx"]["seconds"]
        print(
            f"{case:<10} {r['seconds']:>8.2f} {r['seconds'] / bare:>7.2f}x {r['rss_mb']:>12.1f} "
            f"{r['traced_mb']:>10.1f} {r['bytes'] / 2**20:>8.1f}"
        )
    csv_ratio = results["ours_csv"]["seconds"] / results["bare_csv"]["seconds"]
    xlsx_ratio = results["ours_xlsx"]["seconds"] / results["bare_xlsx"]["seconds"]
    peak = max(r["rss_mb"] for r in results.values())
    ok = csv_ratio <= 2 and xlsx_ratio <= 1.5 and peak <= 200
    print(
        f"goals: CSV {csv_ratio:.2f}x (<= 2), XLSX {xlsx_ratio:.2f}x (<= 1.5), peak RSS {peak:.0f} MB (<= 200): "
        + ("MET" if ok else "NOT MET")
    )


if __name__ == "__main__":
    main()
