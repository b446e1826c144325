"""Failed payouts: new bank details from the applicant, a new batch, and still only one payment."""

from __future__ import annotations

from decimal import Decimal

from claims.models import AuditLog, Claim, LedgerEntry, Payout
from conftest import token_client
from tests.claims.payouts.payout_helpers import (
    approved_claims,
    assert_budget_clean,
    payout_of,
    results_csv,
    upload,
)
from tests.factories import make_bank_account


def _fail_payout(program, finance, finance2, claim):
    batch_id = token_client(finance).post("/api/v1/staff/payout-batches/").json()["id"]
    token_client(finance2).post(f"/api/v1/staff/payout-batches/{batch_id}/approve/")
    r = token_client(finance).post(
        f"/api/v1/staff/payout-batches/{batch_id}/results/",
        upload(results_csv([[claim.claim_number, "failed", "", "账户已销户"]])),
        format="multipart",
    )
    assert r.status_code == 200, r.json()
    claim.refresh_from_db()
    assert claim.status == "payout_failed"
    return batch_id


def test_new_bank_details_then_new_batch_then_paid_once(
    client, program, finance, finance2, django_capture_on_commit_callbacks
):
    claim = approved_claims(program, 1)[0]
    first_batch = _fail_payout(program, finance, finance2, claim)
    lookup = client.post(
        "/api/v1/claims/lookup/",
        {"claim_number": claim.claim_number, "id_number": claim.id_number},
        "application/json",
    ).json()
    assert lookup["status"] == "payout_failed" and lookup["payout_failure_reason"] == "账户已销户"

    new_account = make_bank_account()
    with django_capture_on_commit_callbacks(execute=True):
        r = client.post(
            f"/api/v1/claims/{claim.claim_number}/bank-account/",
            {
                "id_number": claim.id_number,
                "bank_name": "中国农业银行汾阳支行",
                "bank_account": new_account,
                "account_holder": "张三",
            },
            "application/json",
        )
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == "approved"
    claim.refresh_from_db()
    assert claim.bank_account == new_account and claim.bank_name == "中国农业银行汾阳支行"
    assert claim.bank_account_masked.endswith(new_account[-4:])
    log = AuditLog.objects.get(action="bank_account_changed")
    assert new_account not in str(log.detail)  # masked only

    payouts = list(Payout.objects.filter(claim=claim).order_by("attempt"))
    assert [(p.attempt, p.status) for p in payouts] == [(1, "failed"), (2, "pending")]
    assert payouts[1].bank_account == new_account

    second = token_client(finance).post("/api/v1/staff/payout-batches/").json()
    assert second["count"] == 1 and second["id"] != first_batch
    token_client(finance2).post(f"/api/v1/staff/payout-batches/{second['id']}/approve/")
    raw = b"".join(
        token_client(finance)
        .get(f"/api/v1/staff/payout-batches/{second['id']}/file?format=csv")
        .streaming_content
    )
    assert new_account.encode() in raw
    r = token_client(finance).post(
        f"/api/v1/staff/payout-batches/{second['id']}/results/",
        upload(results_csv([[claim.claim_number, "paid", "BANK7", ""]])),
        format="multipart",
    )
    assert r.json()["paid"] == 1
    claim.refresh_from_db()
    assert claim.status == "paid"
    # A late "paid" for the first, failed attempt is refused: it would pay the claim twice.
    r = token_client(finance).post(
        f"/api/v1/staff/payout-batches/{first_batch}/results/",
        upload(results_csv([[claim.claim_number, "paid", "BANK-LATE", ""]])),
        format="multipart",
    )
    assert r.status_code == 400 and r.json()["lines"][0]["code"] == "claim_moved_on"
    assert Payout.objects.filter(claim=claim, status="paid").count() == 1
    assert LedgerEntry.objects.filter(claim=claim, kind="pay").count() == 1
    program.refresh_from_db()
    assert program.paid == Decimal("6000.00") and program.reserved == Decimal("0.00")
    assert_budget_clean(program)


def test_bank_details_refused_unless_payout_failed_and_valid(client, program, finance, finance2):
    claim = approved_claims(program, 1)[0]
    url = f"/api/v1/claims/{claim.claim_number}/bank-account/"
    good = {
        "id_number": claim.id_number,
        "bank_name": "农行",
        "bank_account": make_bank_account(),
        "account_holder": "张三",
    }
    r = client.post(url, good, "application/json")
    assert r.status_code == 409 and r.json()["code"] == "bank_account_change_not_allowed"

    _fail_payout(program, finance, finance2, claim)
    before = Claim.objects.get(pk=claim.pk)
    r = client.post(url, {**good, "account_holder": "李四"}, "application/json")
    assert (
        r.status_code == 400 and r.json()["fields"]["account_holder"][0]["code"] == "account_holder_mismatch"
    )
    r = client.post(url, {**good, "bank_account": "1234"}, "application/json")
    assert r.status_code == 400 and r.json()["code"] == "invalid_bank_account"
    r = client.post(url, {**good, "id_number": "110101199003074477"}, "application/json")
    assert r.status_code == 404
    after = Claim.objects.get(pk=claim.pk)
    assert (after.status, after.bank_account, after.updated_at) == (
        "payout_failed",
        before.bank_account,
        before.updated_at,
    )
    assert Payout.objects.filter(claim=claim).count() == 1


def test_finance_retry_with_same_details(program, finance, finance2, django_capture_on_commit_callbacks):
    from claims.payouts.services import payout_retry

    claim = approved_claims(program, 1)[0]
    _fail_payout(program, finance, finance2, claim)
    with django_capture_on_commit_callbacks(execute=True):
        payout_retry(claim.claim_number, finance)
    claim.refresh_from_db()
    assert claim.status == "approved" and payout_of(claim).attempt == 2
    assert_budget_clean(program)


def test_applicant_may_withdraw_after_failure(client, program, finance, finance2):
    claim = approved_claims(program, 1)[0]
    _fail_payout(program, finance, finance2, claim)
    r = client.post(
        f"/api/v1/claims/{claim.claim_number}/withdraw/",
        {"id_number": claim.id_number, "phone_last4": claim.phone[-4:]},
        "application/json",
    )
    assert r.status_code == 200 and r.json()["status"] == "withdrawn"
    program.refresh_from_db()
    assert program.reserved == Decimal("0.00")
    assert_budget_clean(program)
