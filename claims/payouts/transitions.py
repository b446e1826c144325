"""The one place a payout's or a batch's status changes: allowed moves, the effect on the claim and its money,
the append-only event row, the audit row. See docs/payouts.md.

Callers hold a transaction and the locks, in the project's order: the program row, the claim row, then the
payout or batch row.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.audit.services import audit_log
from claims.errors import Conflict
from claims.intake.models import ClaimStatus
from claims.intake.transitions import claim_transition
from claims.models import Claim, Payout, PayoutBatch, PayoutBatchEvent, PayoutEvent, Program
from claims.money import money_str
from claims.payouts.models import PayoutStatus

P = PayoutStatus
B = PayoutBatch.Status

PAYOUT_ALLOWED: dict[str, frozenset[str]] = {
    P.PENDING: frozenset({P.BATCHED, P.SUBMITTED, P.CANCELLED}),
    P.BATCHED: frozenset({P.PAID, P.FAILED, P.CANCELLED}),
    P.SUBMITTED: frozenset({P.PAID, P.FAILED}),
    P.PAID: frozenset(),
    P.FAILED: frozenset(),
    P.CANCELLED: frozenset(),
}
# What a payout's move does to its claim: a payment moves the subsidy from reserved to paid (in
# `claim_transition`); a failure lets the applicant give new bank details. The other moves leave the claim alone.
CLAIM_EFFECT: dict[str, str] = {P.PAID: ClaimStatus.PAID, P.FAILED: ClaimStatus.PAYOUT_FAILED}

BATCH_ALLOWED: dict[str, frozenset[str]] = {
    B.CREATED: frozenset({B.APPROVED, B.CANCELLED}),
    B.APPROVED: frozenset({B.COMPLETED}),
    B.COMPLETED: frozenset(),
    B.CANCELLED: frozenset(),
}


class PayoutTransitionNotAllowed(Conflict):
    def __init__(self, label: str):
        super().__init__("invalid_transition", _("当前状态为“%(s)s”，不能执行此操作") % {"s": label})


def _actor_fields(actor, source: str) -> dict[str, Any]:
    if getattr(actor, "is_authenticated", False):
        return {"actor": actor, "actor_label": actor.get_username()}
    return {"actor": None, "actor_label": source}


def payout_transition(
    payout: Payout,
    to_status: str,
    *,
    actor=None,
    source: str = "system",
    claim: Claim | None = None,
    program: Program | None = None,
    batch: PayoutBatch | None = None,
    reference: str = "",
    reason: str = "",
    request=None,
) -> Payout:
    """Move a locked payout to `to_status` with its claim effect, an event row and an audit row.

    `claim` (locked) is needed for `paid` and `failed`, and `program` (locked first) for `paid`; `batch` for
    `batched`, `reference` for `paid`, `reason` for `failed` and `cancelled`.
    """
    if not transaction.get_connection().in_atomic_block:  # pragma: no cover - a programming error
        raise RuntimeError("payout_transition must run inside a transaction")
    from_status = payout.status
    if to_status not in PAYOUT_ALLOWED.get(from_status, frozenset()):
        raise PayoutTransitionNotAllowed(PayoutStatus(from_status).label)
    now = timezone.now()
    payout.status = to_status
    fields = ["status", "updated_at"]
    if to_status == P.BATCHED:
        payout.batch = batch
        fields.append("batch")
    elif to_status == P.SUBMITTED:
        payout.submitted_at = now
        fields.append("submitted_at")
    elif to_status == P.PAID:
        payout.bank_reference, payout.failure_reason, payout.completed_at = reference, "", now
        fields += ["bank_reference", "failure_reason", "completed_at"]
    elif to_status in (P.FAILED, P.CANCELLED):
        payout.failure_reason, payout.completed_at = reason[:200], now
        fields += ["failure_reason", "completed_at"]
    payout.save(update_fields=fields)
    who = _actor_fields(actor, source)
    PayoutEvent.objects.create(
        payout=payout,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        data={"batch": payout.batch_id, "bank_reference": reference, "source": source},
        **who,
    )
    if to_status in CLAIM_EFFECT:
        _claim_effect(
            payout, claim, program, to_status, reason=reason, reference=reference, actor=actor, source=source
        )
    if to_status in (P.PAID, P.FAILED, P.CANCELLED):
        audit_log(
            f"payout_{to_status}",
            actor=who["actor"],
            request=request,
            claim=claim or payout.claim,
            obj=payout,
            amount=money_str(payout.amount),
            batch=payout.batch_id,
            source=source,
            **({"actor_label": source} if who["actor"] is None else {}),
            **({"bank_reference": reference} if to_status == P.PAID else {"reason": reason}),
        )
    return payout


def _claim_effect(
    payout: Payout,
    claim: Claim | None,
    program: Program | None,
    to_status: str,
    *,
    reason,
    reference,
    actor,
    source,
) -> None:
    if claim is None or claim.pk != payout.claim_id:  # pragma: no cover - a programming error
        raise RuntimeError("the payout's locked claim is required")
    label = "" if getattr(actor, "is_authenticated", False) else source
    if to_status == P.PAID:
        if payout.amount != claim.subsidy_amount:  # pragma: no cover - amounts never change after approval
            raise RuntimeError(f"payout {payout.pk} amount differs from claim {claim.claim_number}")
        claim.paid_at = payout.completed_at
        claim.bank_reference = reference
        claim.payout_failure_reason = ""
        claim_transition(
            claim,
            ClaimStatus.PAID,
            program=program,
            actor=actor,
            actor_label=label,
            reason_code="payout_paid",
            reason=_("补贴已发放至尾号 %(tail)s 的银行卡") % {"tail": payout.bank_account_masked[-4:]},
            data={"payout": payout.pk, "bank_reference": reference, "source": source},
            update_fields=["paid_at", "bank_reference", "payout_failure_reason"],
        )
    else:
        claim.payout_failure_reason = payout.failure_reason
        claim_transition(
            claim,
            ClaimStatus.PAYOUT_FAILED,
            actor=actor,
            actor_label=label,
            reason_code="payout_failed",
            reason=_("银行未能发放：%(r)s。请提交新的银行卡信息。") % {"r": payout.failure_reason},
            data={"payout": payout.pk, "source": source},
            update_fields=["payout_failure_reason"],
        )


def batch_transition(
    batch: PayoutBatch, to_status: str, *, actor=None, source: str = "system", reason: str = "", request=None
) -> PayoutBatch:
    """Move a locked batch to `to_status`, with an event row and an audit row."""
    if not transaction.get_connection().in_atomic_block:  # pragma: no cover - a programming error
        raise RuntimeError("batch_transition must run inside a transaction")
    from_status = batch.status
    if to_status not in BATCH_ALLOWED.get(from_status, frozenset()):
        raise PayoutTransitionNotAllowed(PayoutBatch.Status(from_status).label)
    now = timezone.now()
    batch.status = to_status
    fields = ["status"]
    if to_status == B.APPROVED:
        batch.approved_by, batch.approved_at = actor, now
        fields += ["approved_by", "approved_at"]
    elif to_status in (B.COMPLETED, B.CANCELLED):
        batch.completed_at = now
        fields.append("completed_at")
    batch.save(update_fields=fields)
    who = _actor_fields(actor, source)
    PayoutBatchEvent.objects.create(
        batch=batch, from_status=from_status, to_status=to_status, reason=reason, **who
    )
    if to_status != B.COMPLETED:
        audit_log(
            f"payout_batch_{to_status}",
            actor=who["actor"],
            request=request,
            obj=batch,
            count=batch.count,
            total=money_str(batch.total),
            **({"reason": reason} if reason else {}),
        )
    return batch
