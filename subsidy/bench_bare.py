"""The bare limit of the stack, for bench/budget_burst.py only (mounted when BENCH_BARE_VIEW is set).

One request = what a reservation costs the database at the least: the budget row's conditional UPDATE and a
ledger INSERT, in one transaction, through the same Django, gunicorn and PostgreSQL as a real submission.
It never runs in production: the URL does not exist unless the setting is on.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection, transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from claims.models import LedgerEntry, Program

AMOUNT = Decimal("0.01")


@csrf_exempt
@require_POST
def bare_reserve(request: HttpRequest, code: str) -> JsonResponse:
    program_table = connection.ops.quote_name(Program._meta.db_table)
    ledger_table = connection.ops.quote_name(LedgerEntry._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {program_table} SET reserved = reserved + %s "
            "WHERE code = %s AND reserved + paid + %s <= budget_total "
            "RETURNING id, reserved, paid, budget_total",
            [AMOUNT, code, AMOUNT],
        )
        row = cursor.fetchone()
        if row is None:
            return JsonResponse({"code": "budget_exhausted"}, status=409)
        cursor.execute(
            f"INSERT INTO {ledger_table} (program_id, kind, amount, reserved_after, paid_after, budget_after, "
            "note, created_at) VALUES (%s, 'reserve', %s, %s, %s, %s, 'bench', now())",
            [row[0], AMOUNT, row[1], row[2], row[3]],
        )
    return JsonResponse({"ok": True}, status=201)
