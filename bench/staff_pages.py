"""Every staff page and staff API list at N claims (default 100,000): query count and median time of each.

Seeds a PostgreSQL database of its own with N claims across every status, with their checks, status events,
budget ledger rows, payouts in a few dozen batches, bank-file rows and audit rows; then requests each page through
the Django test client, logged in per role, and prints one table row per page: the queries it ran (captured once)
and the median of `--runs` timed requests (not captured).

    .venv/bin/python bench/staff_pages.py --claims 1000
    .venv/bin/python bench/staff_pages.py                       # 100,000 claims
    .venv/bin/python bench/staff_pages.py --keep                # keep the database; a second run reuses it

DATABASE_URL (argument or environment) names the server and the database, default
postgres://postgres@127.0.0.1:5432/subsidy_staff_bench_<N>. The database is created (and dropped at the end
unless --keep). Goal: every page <= 200 ms (median) and <= 15 queries, the same count at 1,000 as at 100,000:
`--compare-with 1000` (the default) seeds 1,000 claims in a second database of its own (`<name>_compare_1000`,
dropped afterwards), counts each page's queries there and prints every page whose count differs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_MS, GOAL_QUERIES = 200, 15
CHUNK = 5000
# (status, share of the claims)
STATUS_SHARES = (
    ("under_review", 0.30),
    ("waitlisted", 0.04),
    ("returned", 0.05),
    ("approved", 0.14),
    ("paid", 0.37),
    ("payout_failed", 0.02),
    ("rejected", 0.06),
    ("withdrawn", 0.02),
)
RESERVING = {"under_review", "returned", "approved", "payout_failed"}


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--claims", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7, help="timed requests per page (median)")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--keep", action="store_true", help="keep the database (and reuse it if seeded)")
    parser.add_argument(
        "--compare-with",
        type=int,
        default=1000,
        help="also seed this many claims in a database of its own and compare query counts (0: don't)",
    )
    parser.add_argument("--counts-json", default="", help=argparse.SUPPRESS)  # the comparison run's output
    return parser.parse_args()


def database_url(args) -> str:
    if args.database_url:
        return args.database_url
    return f"postgres://postgres@127.0.0.1:5432/subsidy_staff_bench_{args.claims}"


def _admin_dsn(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def database_create(url: str) -> bool:
    """Create the database if missing; True when it was created."""
    dsn, name = _admin_dsn(url)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        exists = cur.fetchone() is not None
        if not exists:
            cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return not exists


def database_drop(url: str) -> None:
    dsn, name = _admin_dsn(url)
    conn = psycopg2.connect(dsn)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    # Stable per database: the development PII keys live there, and a kept database needs the same keys.
    data_dir = Path(tempfile.gettempdir()) / f"staff-bench-{url.rsplit('/', 1)[-1]}"
    data_dir.mkdir(exist_ok=True)
    os.environ.setdefault("SUBSIDY_DATA_DIR", str(data_dir))
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "subsidy.settings")
    import django

    django.setup()


# --- Seeding ---------------------------------------------------------------------------------------------------


def _bulk(model, rows: list, *, final: bool = False) -> list:
    if len(rows) >= CHUNK or (final and rows):
        model.objects.bulk_create(rows, batch_size=CHUNK)
        return []
    return rows


def seed(n: int) -> None:  # noqa: C901 - one long, linear recipe
    from django.contrib.auth.models import User
    from django.db import connection, transaction
    from django.utils import timezone

    from claims.accounts.roles import ensure_groups
    from claims.crypto import mask
    from claims.models import (
        AuditLog,
        Claim,
        ClaimCheck,
        ClaimEvent,
        LedgerEntry,
        Payout,
        PayoutBankFile,
        PayoutBatch,
        Program,
    )
    from claims.programs.services import program_load, program_parse
    from claims.vocabulary import CHECK_CODES
    from tests.factories import (
        make_bank_account,
        make_credit_code,
        make_id_number,
        make_vin,
        program_document,
    )

    rnd = random.Random(20261202)
    groups = ensure_groups()
    users = {}
    for role in ("reviewer", "clerk", "finance", "auditor"):
        user = User.objects.create_user(f"bench_{role}", password="bench-password-1", is_staff=True)
        user.groups.add(groups[role])
        users[role] = user
    users["finance2"] = User.objects.create_user("bench_finance2", password="bench-password-1", is_staff=True)
    users["finance2"].groups.add(groups["finance"])

    now = timezone.now()
    start = now - dt.timedelta(days=90)
    budget = Decimal(n) * Decimal("7000.00") + Decimal("1000000.00")
    programs = [
        program_load(program_parse(program_document(f"bench-{i}", budget=str(budget))))[0] for i in range(2)
    ]
    tiers = {p.pk: list(p.tiers.order_by("position")) for p in programs}
    # `created_at` columns are set by Django on insert; seeded rows carry their own history.
    stamped = [
        f
        for model in (ClaimEvent, LedgerEntry, AuditLog, PayoutBatch, Payout)
        for f in model._meta.fields
        if getattr(f, "auto_now_add", False)
    ]
    for field in stamped:
        field.auto_now_add = False
    statuses = [s for s, _ in STATUS_SHARES]
    weights = [w for _, w in STATUS_SHARES]
    dealers = [make_credit_code(k) for k in range(1, 41)]
    seqs = {p.pk: 0 for p in programs}

    claims: list = []
    planned: list[tuple] = []  # (program, seq, status, amount, submitted_at)
    t0 = time.perf_counter()
    with transaction.atomic():
        for i in range(n):
            program = programs[0] if i % 5 else programs[1]
            seqs[program.pk] += 1
            seq = seqs[program.pk]
            status = rnd.choices(statuses, weights)[0]
            fuel = "nev" if i % 3 else "fuel"
            tier = tiers[program.pk][rnd.randrange(len(tiers[program.pk]))]
            amount = tier.amount_for(fuel)
            submitted = start + dt.timedelta(seconds=(80 * 86400) * i / max(n, 1))
            claim = Claim(
                program=program,
                seq=seq,
                claim_number=f"{program.claim_prefix}-{seq:06d}",
                status=status,
                channel="counter" if i % 10 == 0 else "online",
                applicant_name="张三" if i % 2 else "李四",
                fuel_type=fuel,
                vin=make_vin(i),
                plate_number=(f"晋JD{i % 100000:05d}" if fuel == "nev" else f"晋J{i % 100000:05d}"),
                vehicle_model="比亚迪 秦",
                invoice_code="141002300111",
                invoice_number=f"{i:08d}",
                invoice_date=submitted.date(),
                invoice_amount=tier.above + Decimal("1000.00"),
                dealer_credit_code=dealers[i % len(dealers)],
                dealer_name=f"汾阳市第{i % len(dealers) + 1}汽车销售有限公司",
                license_issue_date=submitted.date(),
                pos_amount=Decimal("30000.00"),
                pos_date=submitted.date(),
                bank_name="中国建设银行汾阳支行",
                account_holder="张三",
                tier_position=tier.position,
                subsidy_amount=amount,
                submitted_at=submitted,
                decided_at=submitted + dt.timedelta(days=3)
                if status not in ("under_review", "waitlisted")
                else None,
                decided_by=users["reviewer"] if status not in ("under_review", "waitlisted") else None,
                paid_at=submitted + dt.timedelta(days=10) if status == "paid" else None,
                bank_reference=f"BR{i:010d}" if status == "paid" else "",
                return_reason="材料不清晰" if status == "returned" else "",
                return_reason_code="unclear_document" if status == "returned" else "",
                correction_deadline=(submitted + dt.timedelta(days=18)).date()
                if status == "returned"
                else None,
            )
            claim.set_pii(
                id_number=make_id_number(seq=i % 1000),
                phone=f"138{i:08d}",
                bank_account=make_bank_account(i),
            )
            claims.append(claim)
            planned.append((program, seq, status, amount, submitted))
            claims = _bulk(Claim, claims)
        _bulk(Claim, claims, final=True)
        print(f"  claims: {time.perf_counter() - t0:.1f} s", flush=True)
        ids = {(p, s): pk for pk, p, s in Claim.objects.values_list("pk", "program_id", "seq")}

        # Checks, events, audit rows --------------------------------------------------------------------------
        checks, events, audit = [], [], []
        codes = CHECK_CODES[7:12]
        for program, seq, status, _amount, submitted in planned:
            claim_id = ids[(program.pk, seq)]
            for k, code in enumerate(codes):
                result = (
                    "fail"
                    if rnd.random() < 0.03
                    else ("unknown" if k == 4 and rnd.random() < 0.1 else "pass")
                )
                checks.append(ClaimCheck(claim_id=claim_id, code=code, result=result))
            first = "waitlisted" if status == "waitlisted" else "under_review"
            events.append(
                ClaimEvent(
                    claim_id=claim_id,
                    from_status="",
                    to_status=first,
                    actor_label="申请人",
                    created_at=submitted,
                )
            )
            if status not in ("under_review", "waitlisted"):
                decided = "approved" if status in ("paid", "payout_failed") else status
                events.append(
                    ClaimEvent(
                        claim_id=claim_id,
                        from_status="under_review",
                        to_status=decided,
                        actor=users["reviewer"],
                        actor_label="bench_reviewer",
                        created_at=submitted + dt.timedelta(days=3),
                    )
                )
                audit.append(
                    AuditLog(
                        actor=users["reviewer"],
                        actor_label="bench_reviewer",
                        action=f"claim_{decided}" if decided != "withdrawn" else "claim_review_opened",
                        claim_id=claim_id,
                        object_type="Claim",
                        object_id=str(claim_id),
                        ip_address="10.0.0.8",
                        created_at=submitted + dt.timedelta(days=3),
                    )
                )
            if status in ("paid", "payout_failed"):
                events.append(
                    ClaimEvent(
                        claim_id=claim_id,
                        from_status="approved",
                        to_status=status,
                        actor_label="bank",
                        created_at=submitted + dt.timedelta(days=10),
                    )
                )
            checks = _bulk(ClaimCheck, checks)
            events = _bulk(ClaimEvent, events)
            audit = _bulk(AuditLog, audit)
        _bulk(ClaimCheck, checks, final=True)
        _bulk(ClaimEvent, events, final=True)
        _bulk(AuditLog, audit, final=True)
        print(f"  checks, events, audit: {time.perf_counter() - t0:.1f} s", flush=True)

        # The budget ledger, in time order, with the running figures --------------------------------------------
        moves = []
        for program, seq, status, amount, submitted in planned:
            claim_id = ids[(program.pk, seq)]
            if status == "waitlisted":
                continue
            moves.append((submitted, program, claim_id, "reserve", amount))
            if status in ("rejected", "withdrawn"):
                moves.append((submitted + dt.timedelta(days=3), program, claim_id, "release", amount))
            elif status == "paid":
                moves.append((submitted + dt.timedelta(days=10), program, claim_id, "pay", amount))
        moves.sort(key=lambda m: m[0])
        state = {p.pk: [Decimal("0.00"), Decimal("0.00")] for p in programs}
        entries = [
            LedgerEntry(
                program=p,
                kind="budget",
                amount=budget,
                reserved_after=0,
                paid_after=0,
                budget_after=budget,
                created_at=start - dt.timedelta(days=1),
            )
            for p in programs
        ]
        for at, program, claim_id, kind, amount in moves:
            acc = state[program.pk]
            if kind == "reserve":
                acc[0] += amount
            elif kind == "release":
                acc[0] -= amount
            else:
                acc[0] -= amount
                acc[1] += amount
            entries.append(
                LedgerEntry(
                    program=program,
                    claim_id=claim_id,
                    kind=kind,
                    amount=amount,
                    reserved_after=acc[0],
                    paid_after=acc[1],
                    budget_after=budget,
                    created_at=min(at, now),
                )
            )
            entries = _bulk(LedgerEntry, entries)
        _bulk(LedgerEntry, entries, final=True)
        for p in programs:
            Program.objects.filter(pk=p.pk).update(
                reserved=state[p.pk][0], paid=state[p.pk][1], next_seq=seqs[p.pk] + 1
            )
        print(f"  ledger: {time.perf_counter() - t0:.1f} s", flush=True)

        # Payouts and batches ---------------------------------------------------------------------------------
        paying = [
            (p, s, st, a, t) for p, s, st, a, t in planned if st in ("approved", "paid", "payout_failed")
        ]
        completed = [
            PayoutBatch.objects.create(
                program=programs[k % 2],
                status="completed",
                created_by=users["finance"],
                approved_by=users["finance2"],
                created_at=start + dt.timedelta(days=k * 2),
                approved_at=start + dt.timedelta(days=k * 2, hours=2),
                completed_at=start + dt.timedelta(days=k * 2 + 1),
            )
            for k in range(30)
        ]
        open_batches = [
            PayoutBatch.objects.create(
                program=programs[k % 2],
                status="approved" if k < 4 else "created",
                created_by=users["finance"],
                approved_by=users["finance2"] if k < 4 else None,
                created_at=now - dt.timedelta(days=2),
                approved_at=now - dt.timedelta(days=1) if k < 4 else None,
            )
            for k in range(7)
        ]
        for k in range(3):
            PayoutBatch.objects.create(
                program=programs[k % 2], status="cancelled", created_by=users["finance"], created_at=now
            )
        payouts = []
        for i, (program, seq, status, amount, submitted) in enumerate(paying):
            claim_id = ids[(program.pk, seq)]
            account = make_bank_account(seq * 7 + program.pk)
            if status == "approved":
                batch = open_batches[i % len(open_batches)] if i % 2 else None
                pstatus = ("batched" if batch.status == "created" else "submitted") if batch else "pending"
            else:
                batch = completed[[pp.pk for pp in programs].index(program.pk) + 2 * (i % 15)]
                pstatus = "paid" if status == "paid" else "failed"
            payouts.append(
                Payout(
                    claim_id=claim_id,
                    program=program,
                    status=pstatus,
                    amount=amount,
                    payee_name="张三",
                    bank_name="中国建设银行汾阳支行",
                    bank_account=account,
                    bank_account_masked=mask(account),
                    batch=batch,
                    bank_reference=f"BR{claim_id:010d}" if pstatus == "paid" else "",
                    failure_reason="账户已销户" if pstatus == "failed" else "",
                    created_at=submitted + dt.timedelta(days=4),
                    completed_at=submitted + dt.timedelta(days=10) if status != "approved" else None,
                )
            )
            payouts = _bulk(Payout, payouts)
        _bulk(Payout, payouts, final=True)
        with connection.cursor() as cur:
            cur.execute(
                """UPDATE claims_payoutbatch b SET count = s.n, total = s.t
                   FROM (SELECT batch_id, COUNT(*) n, SUM(amount) t FROM claims_payout
                         WHERE batch_id IS NOT NULL GROUP BY batch_id) s WHERE s.batch_id = b.id"""
            )
        files = [
            PayoutBankFile(
                batch=b,
                fmt=fmt,
                layout="default",
                stored_name=f"bench-{b.pk}.{fmt}",
                sha256=f"{b.pk:064d}",
                created_by=users["finance"],
            )
            for b in completed + open_batches[:4]
            for fmt in ("csv", "xlsx")
        ]
        PayoutBankFile.objects.bulk_create(files)
        print(f"  payouts: {time.perf_counter() - t0:.1f} s", flush=True)
    for field in stamped:
        field.auto_now_add = True
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    print(f"  seeded {n} claims in {time.perf_counter() - t0:.1f} s", flush=True)


# --- Measuring -------------------------------------------------------------------------------------------------


def pages(n: int) -> list[tuple[str, str, str, str, dict]]:
    """(name, role, method, url, POST data) of every staff page and API list."""
    from django.urls import NoReverseMatch
    from django.urls import reverse as django_reverse

    def reverse(name, args=()):
        try:
            return django_reverse(name, args=args)
        except NoReverseMatch:  # a page this checkout does not have
            return ""

    from claims.models import Claim, PayoutBatch
    from claims.review.cursor import cursor_for

    some = Claim.objects.filter(status="under_review").order_by("program_id", "seq")[n // 5 // 2 :].first()
    paid = Claim.objects.filter(status="paid").order_by("-id").first()
    big_batch = PayoutBatch.objects.filter(status="completed").order_by("-count").first()
    program = some.program
    per_page = 100
    last = max(1, (n + per_page - 1) // per_page)
    deep_api = max(1, n // 50)
    # The cursor that starts where the deep page starts (the last row of the page before it).
    before_deep = Claim.objects.order_by("program_id", "seq")[max(0, (deep_api - 1) * 50 - 1) :].first()
    changelist = reverse("admin:claims_claim_changelist")
    return [
        ("admin index", "reviewer", "GET", reverse("admin:index"), {}),
        ("claims: changelist", "reviewer", "GET", changelist, {}),
        ("claims: under review", "reviewer", "GET", changelist + "?status__exact=under_review", {}),
        ("claims: failing check", "reviewer", "GET", changelist + "?failing_check=dealer_eligible", {}),
        ("claims: page 105", "reviewer", "GET", changelist + f"?p={min(105, last)}", {}),
        ("claims: middle page", "reviewer", "GET", changelist + f"?p={max(1, last // 2)}", {}),
        ("claims: last page", "reviewer", "GET", changelist + f"?p={last}", {}),
        ("claims: search claim no.", "reviewer", "GET", changelist + f"?q={some.claim_number}", {}),
        (
            "claims: search full ID (POST)",
            "auditor",
            "POST",
            reverse("admin:claims_claim_search"),
            {"number": some.id_number},
        ),
        ("claims: review page", "reviewer", "GET", reverse("admin:claims_claim_change", args=[some.pk]), {}),
        ("dashboard", "reviewer", "GET", reverse("admin:claims_claim_dashboard"), {}),
        ("counter intake", "clerk", "GET", reverse("admin:claims_claim_counter"), {}),
        ("programs", "finance", "GET", reverse("admin:claims_program_changelist"), {}),
        ("reports", "finance", "GET", reverse("admin:claims_program_reports"), {}),
        ("settlement", "finance", "GET", reverse("admin:claims_program_settlement", args=[program.code]), {}),
        ("ledger entries", "finance", "GET", reverse("admin:claims_ledgerentry_changelist"), {}),
        ("payout batches", "finance", "GET", reverse("admin:claims_payoutbatch_changelist"), {}),
        (
            "payout batch",
            "finance",
            "GET",
            reverse("admin:claims_payoutbatch_change", args=[big_batch.pk]),
            {},
        ),
        ("new batch", "finance", "GET", reverse("admin:claims_payoutbatch_create"), {}),
        ("payouts", "finance", "GET", reverse("admin:claims_payout_changelist"), {}),
        (
            "payouts: search claim no.",
            "finance",
            "GET",
            reverse("admin:claims_payout_changelist") + f"?q={paid.claim_number}",
            {},
        ),
        ("audit log", "auditor", "GET", reverse("admin:claims_auditlog_changelist"), {}),
        (
            "audit log: search claim no.",
            "auditor",
            "GET",
            reverse("admin:claims_auditlog_changelist") + f"?q={paid.claim_number}",
            {},
        ),
        ("API claims", "reviewer", "GET", reverse("api:staff-claim-list"), {}),
        (
            "API claims: under review",
            "reviewer",
            "GET",
            reverse("api:staff-claim-list") + "?status=under_review",
            {},
        ),
        (
            "API claims: deep page",
            "reviewer",
            "GET",
            reverse("api:staff-claim-list") + f"?page={deep_api}",
            {},
        ),
        (
            "API claims: deep cursor",
            "reviewer",
            "GET",
            reverse("api:staff-claim-list") + f"?cursor={cursor_for(before_deep)}",
            {},
        ),
        (
            "API claims: search claim no.",
            "reviewer",
            "GET",
            reverse("api:staff-claim-list") + f"?q={some.claim_number}",
            {},
        ),
        (
            "API claims: search full ID (POST)",
            "auditor",
            "POST",
            reverse("api:staff-claim-search"),
            {"number": some.id_number},
        ),
        ("API claim", "reviewer", "GET", reverse("api:staff-claim-detail", args=[some.claim_number]), {}),
        ("API payout batches", "finance", "GET", reverse("api:payout-batch-list"), {}),
        ("API payout batch", "finance", "GET", reverse("api:payout-batch-detail", args=[big_batch.pk]), {}),
    ]


def _request(client, method: str, url: str, data: dict):
    return client.post(url, data) if method == "POST" else client.get(url)


def measure(n: int, runs: int) -> list[tuple]:
    from django.contrib.auth.models import User
    from django.db import connection, reset_queries
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from claims.accounts.tokens import token_issue

    logging.getLogger("axes").setLevel(logging.WARNING)
    clients: dict[str, Client] = {}
    for role in ("reviewer", "clerk", "finance", "auditor"):
        user = User.objects.get(username=f"bench_{role}")
        client = Client(HTTP_AUTHORIZATION=f"Token {token_issue(user).key}")
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        clients[role] = client
    results = []
    for name, role, method, url, data in pages(n):
        client = clients[role]
        if not url.startswith("/"):
            print(f"  {name:36} {role:9} (no such page)")
            continue

        response = _request(client, method, url, data)  # warm-up (template and URL caches)
        reset_queries()  # the request's own reset would otherwise cut the capture short
        with CaptureQueriesContext(connection) as queries:
            response = _request(client, method, url, data)
        times = []
        for _ in range(runs):
            t = time.perf_counter()
            _request(client, method, url, data)
            times.append((time.perf_counter() - t) * 1000)
        median = statistics.median(times)
        ok = median <= GOAL_MS and len(queries) <= GOAL_QUERIES and response.status_code < 400
        results.append((name, role, method, response.status_code, len(queries), median, ok))
        print(
            f"  {name:36} {role:9} {response.status_code:4} {len(queries):5} {median:9.1f}  {'' if ok else 'X'}",
            flush=True,
        )
    return results


def query_counts_at(n: int, url: str) -> dict[str, int]:
    """Each page's query count at `n` claims: this script again, in a process and a database of its own."""
    parts = urlsplit(url)
    other = urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}_compare_{n}"))
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SUBSIDY_DATA_DIR")}
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        command = [sys.executable, __file__, "--claims", str(n), "--runs", "1", "--compare-with", "0"]
        command += ["--database-url", other, "--counts-json", out.name]
        subprocess.run(command, env=env, check=True, stdout=subprocess.DEVNULL)
        return json.loads(Path(out.name).read_text() or "{}")


def compare_counts(results: list[tuple], n: int, other_n: int, url: str) -> None:
    print(f"\nQuery counts at {other_n} claims (seeded in a database of its own) against {n}:")
    other = query_counts_at(other_n, url)
    differ = [(r[0], other.get(r[0]), r[4]) for r in results if other.get(r[0]) != r[4]]
    for name, there, here in differ:
        print(f"  {name:36} {there} at {other_n}, {here} at {n}")
    print(f"  {len(results) - len(differ)} of {len(results)} pages run the same number of queries")


def main() -> None:
    args = parse_args()
    url = database_url(args)
    created = database_create(url)
    setup_django(url)
    from django.core.management import call_command

    from claims.models import Claim

    try:
        call_command("migrate", verbosity=0)
        if created or not Claim.objects.exists():
            print(f"Seeding {args.claims} claims into {url.rsplit('/', 1)[-1]} ...", flush=True)
            seed(args.claims)
        else:
            print(f"Reusing {url.rsplit('/', 1)[-1]} ({Claim.objects.count()} claims)", flush=True)
        n = Claim.objects.count()
        print(
            f"\nStaff pages at {n} claims (median of {args.runs} requests; goal <= {GOAL_MS} ms, "
            f"<= {GOAL_QUERIES} queries)"
        )
        print(f"  {'page':36} {'role':9} {'code':>4} {'qrys':>5} {'median ms':>9}")
        results = measure(n, args.runs)
        bad = [r for r in results if not r[-1]]
        print(
            f"\n{len(results) - len(bad)} of {len(results)} pages within the goal"
            + (f"; over: {', '.join(r[0] for r in bad)}" if bad else "")
        )
        if args.counts_json:
            Path(args.counts_json).write_text(json.dumps({r[0]: r[4] for r in results}))
        if args.compare_with and args.compare_with != n:
            compare_counts(results, n, args.compare_with, url)
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database_drop(url)


if __name__ == "__main__":
    main()
