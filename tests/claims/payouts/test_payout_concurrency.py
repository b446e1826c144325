"""Payouts under concurrency (real threads, own connections): one payment per claim, whatever arrives at once."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from claims.errors import ServiceError
from claims.models import LedgerEntry, Payout
from claims.payouts.bank_files import results_import
from claims.payouts.services import batch_approve, batch_create
from tests.claims.payouts.payout_helpers import approved_claims, assert_budget_clean, results_csv
from tests.factories import make_program, make_staff

THREADS = 8


def _together(fn, n=THREADS):
    barrier = threading.Barrier(n)

    def worker(i):
        try:
            barrier.wait(timeout=30)
            return fn(i)
        except ServiceError as exc:
            return exc.code
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(worker, range(n)))


@pytest.mark.django_db(transaction=True)
def test_concurrent_batches_and_imports_pay_once(postgres_only):
    program = make_program("payout-race")
    a, b = make_staff("fa", "finance"), make_staff("fb", "finance")
    claims = approved_claims(program, 5)

    created = _together(lambda i: batch_create(a).pk)
    batch_ids = [x for x in created if isinstance(x, int)]
    assert len(batch_ids) == 1 and created.count("nothing_to_pay") == THREADS - 1
    batch_approve(batch_ids[0], b)

    data = results_csv([[c.claim_number, "paid", f"R{c.pk}", ""] for c in claims])
    summaries = _together(lambda i: results_import(batch_ids[0], data, a))
    assert sum(s.paid for s in summaries) == 5
    assert Payout.objects.filter(status="paid").count() == 5
    assert LedgerEntry.objects.filter(kind="pay").count() == 5
    assert_budget_clean(program)
