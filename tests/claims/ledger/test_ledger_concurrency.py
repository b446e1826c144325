"""Two publishers at once: one publication, no fork of the chain (PostgreSQL, real threads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connections

from claims.ledger.models import LedgerPublication
from claims.ledger.services import ledger_publish
from tests.claims.payouts.payout_helpers import approve
from tests.factories import make_program, submit_claim


@pytest.mark.django_db(transaction=True)
def test_concurrent_publishers_do_not_fork(postgres_only):
    program = make_program("ledger-race")
    for _ in range(3):
        approve(submit_claim(program))
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(ledger_publish(program.code))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    made = [r for r in results if r is not None]
    assert len(made) == 1 and made[0].count == 3
    assert LedgerPublication.objects.filter(program=program).count() == 1
