"""The payout and batch status machines: allowed moves, event rows, cancel and retry from the API and the admin."""

from __future__ import annotations

import pytest
from django.db import transaction

from claims.errors import Conflict
from claims.models import AuditLog, Payout, PayoutBatch, PayoutBatchEvent, PayoutEvent, PayoutStatus
from claims.payouts.transitions import BATCH_ALLOWED, PAYOUT_ALLOWED, payout_transition
from conftest import token_client
from tests.claims.payouts.payout_helpers import (
    approved_claims,
    assert_budget_clean,
    payout_of,
    results_csv,
    upload,
)

BATCHES = "/api/v1/staff/payout-batches/"


def test_every_status_has_its_row_in_the_tables():
    assert set(PAYOUT_ALLOWED) == set(PayoutStatus.values)
    assert set(BATCH_ALLOWED) == set(PayoutBatch.Status.values)


def test_a_move_outside_the_table_is_refused_and_writes_nothing(program):
    (claim,) = approved_claims(program, 1)
    payout = payout_of(claim)
    with pytest.raises(Conflict) as exc, transaction.atomic():
        payout_transition(payout, "paid", claim=claim, reference="X")  # pending -> paid is not a move
    assert exc.value.code == "invalid_transition"
    payout.refresh_from_db()
    assert payout.status == "pending" and not PayoutEvent.objects.filter(payout=payout).exists()


def test_batch_create_approve_and_results_write_one_event_per_move(program, finance, finance2):
    claims = approved_claims(program, 2)
    batch_id = token_client(finance).post(BATCHES).json()["id"]
    assert token_client(finance2).post(f"{BATCHES}{batch_id}/approve/").status_code == 200
    rows = [
        [claims[0].claim_number, "paid", "B001", ""],
        [claims[1].claim_number, "failed", "", "账户已销户"],
    ]
    r = token_client(finance).post(
        f"{BATCHES}{batch_id}/results/", upload(results_csv(rows)), format="multipart"
    )
    assert r.status_code == 200, r.json()
    moves = list(
        PayoutEvent.objects.order_by("id").values_list("payout__claim_id", "from_status", "to_status")
    )
    assert moves == [
        (claims[0].pk, "pending", "batched"),
        (claims[1].pk, "pending", "batched"),
        (claims[0].pk, "batched", "paid"),
        (claims[1].pk, "batched", "failed"),
    ]
    batch_moves = list(
        PayoutBatchEvent.objects.order_by("id").values_list("from_status", "to_status", "actor")
    )
    assert batch_moves == [("created", "approved", finance2.pk), ("approved", "completed", None)]
    assert PayoutBatch.objects.get(pk=batch_id).status == "completed"
    assert_budget_clean(program)


def test_cancel_an_unapproved_batch_voids_its_payouts_and_queues_new_ones(program, finance, finance2):
    claims = approved_claims(program, 2)
    batch_id = token_client(finance).post(BATCHES).json()["id"]
    r = token_client(finance2).post(f"{BATCHES}{batch_id}/cancel/", {"reason": "金额核对有误"}, format="json")
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    for claim in claims:
        attempts = list(
            Payout.objects.filter(claim=claim).order_by("attempt").values_list("status", "batch_id")
        )
        assert attempts == [("cancelled", batch_id), ("pending", None)]
        claim.refresh_from_db()
        assert claim.status == "approved"  # no money moved
    assert AuditLog.objects.filter(action="payout_batch_cancelled").count() == 1
    assert AuditLog.objects.filter(action="payout_cancelled").count() == 2
    # The claims go into the next batch; a cancelled batch can be neither cancelled again nor approved.
    assert token_client(finance).post(BATCHES).json()["count"] == 2
    assert token_client(finance).post(f"{BATCHES}{batch_id}/cancel/").status_code == 409
    assert token_client(finance2).post(f"{BATCHES}{batch_id}/approve/").status_code == 409
    assert_budget_clean(program)


def test_an_approved_batch_cannot_be_cancelled(program, finance, finance2, auditor):
    approved_claims(program, 1)
    batch_id = token_client(finance).post(BATCHES).json()["id"]
    assert token_client(auditor).post(f"{BATCHES}{batch_id}/cancel/").status_code == 403
    token_client(finance2).post(f"{BATCHES}{batch_id}/approve/")
    r = token_client(finance).post(f"{BATCHES}{batch_id}/cancel/")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"


def test_finance_retries_a_failed_payout_from_the_api(
    program, finance, finance2, auditor, django_capture_on_commit_callbacks
):
    (claim,) = approved_claims(program, 1)
    batch_id = token_client(finance).post(BATCHES).json()["id"]
    token_client(finance2).post(f"{BATCHES}{batch_id}/approve/")
    rows = [[claim.claim_number, "failed", "", "银行系统维护"]]
    token_client(finance).post(f"{BATCHES}{batch_id}/results/", upload(results_csv(rows)), format="multipart")
    url = f"/api/v1/staff/claims/{claim.claim_number}/payout-retry/"
    assert token_client(auditor).post(url).status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        r = token_client(finance).post(url)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert payout_of(claim).status == "pending" and payout_of(claim).attempt == 2
    assert token_client(finance).post(url).status_code == 409  # no longer failed
    assert_budget_clean(program)


def test_admin_actions_cancel_batches_and_retry_payouts(
    program, finance, finance2, client, django_capture_on_commit_callbacks
):
    (claim,) = approved_claims(program, 1)
    batch_id = token_client(finance).post(BATCHES).json()["id"]
    client.force_login(finance2)
    r = client.post(
        "/admin/claims/payoutbatch/",
        {"action": "cancel_batches", "_selected_action": [batch_id]},
        follow=True,
    )
    assert r.status_code == 200
    assert PayoutBatch.objects.get(pk=batch_id).status == "cancelled"
    batch_id = token_client(finance).post(BATCHES).json()["id"]
    token_client(finance2).post(f"{BATCHES}{batch_id}/approve/")
    rows = [[claim.claim_number, "failed", "", "户名不符"]]
    token_client(finance).post(f"{BATCHES}{batch_id}/results/", upload(results_csv(rows)), format="multipart")
    failed = payout_of(claim)
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            "/admin/claims/payout/", {"action": "retry_payouts", "_selected_action": [failed.pk]}, follow=True
        )
    assert r.status_code == 200
    claim.refresh_from_db()
    assert claim.status == "approved" and payout_of(claim).attempt == failed.attempt + 1
