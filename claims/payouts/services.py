"""Payouts: instructions, batches approved by two people, recording the bank's answers, retries.

Life of a payout
----------------
* Approval commits -> `payout_enqueue_for_claim` queues `payout_create_task`, which creates the claim's payout
  instruction (`Payout`, status `pending`) with the payee details as they are at that moment. Idempotent: the
  database allows one live (pending/batched/submitted/paid) payout per claim. A periodic sweep creates the ones a
  lost message left behind (the database, not the broker, says what is pending).
* File route: finance creates a batch (every pending payout of an approved claim), a second finance user approves
  it, the file is downloaded and sent to the bank; the bank's results file is imported (`bank_files.py`).
* Gateway route (when `PAYOUT_GATEWAY_URL` is set): `payout_send` sends each pending payout through the bank's API
  with the payout id as idempotency key (`gateway.py`).
* `paid`: the claim goes approved -> paid and the ledger moves the amount from reserved to paid.
  `failed`: the claim goes approved -> payout_failed (money stays reserved) with the bank's reason.
* After a failure the applicant gives new bank details (`claim_bank_account_change`): the claim goes back to
  `approved` AT ONCE (payout_failed -> approved, no money moves) and a new payout instruction (attempt n+1) is
  created after commit, so the claim appears in the next batch like any approved claim. Finance can also retry with
  the same details (`payout_retry`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.accounts.roles import FINANCE, has_role
from claims.audit.services import audit_log
from claims.checks.services import claim_refresh_checks
from claims.errors import Conflict, Forbidden, NotFound
from claims.intake.applicant import claim_for_applicant
from claims.intake.models import ClaimStatus
from claims.intake.services import claim_input_parse
from claims.intake.transitions import claim_transition
from claims.models import Claim, Payout, PayoutBatch, Program
from claims.money import ZERO, money_str

# The tasks module calls these services; both import each other as modules, used only at call time.
from claims.payouts import tasks
from claims.payouts.gateway import PayoutInstruction, gateway_from_settings
from claims.payouts.models import LIVE_PAYOUT_STATUSES, OPEN_PAYOUT_STATUSES, PayoutStatus
from claims.payouts.transitions import batch_transition, payout_transition
from claims.programs.budget import program_lock
from claims.vocabulary import BANK_FIELDS

log = logging.getLogger(__name__)
S = ClaimStatus
P = PayoutStatus

SWEEP_LIMIT = 500


def _audit(action: str, *, actor=None, label: str = "system", **detail: Any) -> None:
    """An audit row; a system step (worker, gateway, applicant) is labelled instead of naming a user."""
    if not getattr(actor, "is_authenticated", False):
        detail["actor_label"] = label
    audit_log(action, actor=actor, **detail)


def failure_reason(reason: str) -> str:
    """The bank's reason for a failed payment as stored and shown to the applicant."""
    return (reason or _("银行退回")).strip()[:200]


def payout_purpose(claim_number: str) -> str:
    return _("汽车消费补贴 %(n)s") % {"n": claim_number}


# --- Creating instructions ---------------------------------------------------------------------------------


def payout_enqueue_for_claim(claim_id: int) -> None:
    """Queue the creation of the claim's payout instruction (called after the approval commits)."""
    tasks.payout_create_task.delay(claim_id)


def _live_payout(claim: Claim) -> Payout | None:
    return Payout.objects.filter(claim=claim, status__in=LIVE_PAYOUT_STATUSES).first()


def _payout_create_locked(claim: Claim, *, actor=None) -> tuple[Payout | None, bool]:
    """Create the instruction for a locked, approved claim unless it has a live one. Returns (payout, created)."""
    existing = _live_payout(claim)
    if existing is not None or claim.status != S.APPROVED:
        return existing, False
    last = Payout.objects.filter(claim=claim).aggregate(n=Max("attempt"))["n"] or 0
    payout = Payout(
        claim=claim,
        program_id=claim.program_id,
        attempt=last + 1,
        amount=claim.subsidy_amount,
        payee_name=claim.account_holder,
        bank_name=claim.bank_name,
        bank_account=claim.bank_account,
        bank_account_masked=claim.bank_account_masked,
    )
    payout.save()
    _audit(
        "payout_created",
        actor=actor,
        claim=claim,
        obj=payout,
        attempt=payout.attempt,
        amount=money_str(payout.amount),
        bank_account=payout.bank_account_masked,
    )
    return payout, True


def payout_create_for_claim(claim_id: int) -> Payout | None:
    """Idempotent: the claim's live payout instruction, created if the claim is approved and has none."""
    with transaction.atomic():
        claim = Claim.objects.select_for_update().filter(pk=claim_id).first()
        if claim is None:
            return None
        payout, created = _payout_create_locked(claim)
        if created and gateway_enabled():
            payout_id = payout.pk
            transaction.on_commit(lambda: _enqueue_send(payout_id))
    return payout


def claims_without_payout(limit: int = SWEEP_LIMIT) -> list[int]:
    """Approved claims that have no live payout instruction: what a lost message left behind."""
    live = Payout.objects.filter(claim=OuterRef("pk"), status__in=LIVE_PAYOUT_STATUSES)
    return list(
        Claim.objects.filter(status=S.APPROVED)
        .filter(~Exists(live))
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


@dataclass
class SweepResult:
    created: int = 0
    sent: int = 0
    rechecked: int = 0


def payouts_sweep(*, limit: int = SWEEP_LIMIT, stale_after: dt.timedelta | None = None) -> SweepResult:
    """Periodic: queue what the broker may have lost. Bounded per run; every step is idempotent.

    A gateway payout pending or submitted for longer than `stale_after` (default PAYOUT_STALE_SECONDS) is sent,
    or its outcome asked of the bank, again.
    """
    if stale_after is None:
        stale_after = dt.timedelta(seconds=settings.PAYOUT_STALE_SECONDS)
    result = SweepResult()
    for claim_id in claims_without_payout(limit):
        tasks.payout_create_task.delay(claim_id)
        result.created += 1
    if gateway_enabled():
        cutoff = timezone.now() - stale_after
        pending = Payout.objects.filter(status=P.PENDING, batch__isnull=True, created_at__lt=cutoff)
        for payout_id in pending.order_by("id").values_list("id", flat=True)[:limit]:
            tasks.payout_send_task.delay(payout_id)
            result.sent += 1
        unknown = Payout.objects.filter(status=P.SUBMITTED, updated_at__lt=cutoff)
        for payout_id in unknown.order_by("id").values_list("id", flat=True)[:limit]:
            tasks.payout_send_task.delay(payout_id)
            result.rechecked += 1
    return result


# --- Batches -----------------------------------------------------------------------------------------------


def require_finance(user) -> None:
    if not has_role(user, FINANCE):
        raise Forbidden("permission_denied", _("只有财务人员可以执行此操作"))


def batch_create(user, *, program_code: str | None = None, request=None) -> PayoutBatch:
    """A batch of every approved claim's pending payout not yet in a batch (creating missing instructions)."""
    require_finance(user)
    program = None
    if program_code:
        program = Program.objects.filter(code=program_code).first()
        if program is None:
            raise NotFound("program_not_found", _("补贴项目不存在"))
    with transaction.atomic():
        # Instructions a lost message never created are created here, under the claim lock, first.
        missing = Claim.objects.select_for_update().filter(pk__in=claims_without_payout(limit=100_000))
        if program is not None:
            missing = missing.filter(program=program)
        for claim in missing.order_by("id"):
            _payout_create_locked(claim, actor=user)
        payouts = Payout.objects.select_for_update(of=("self",)).filter(
            status=P.PENDING, batch__isnull=True, claim__status=S.APPROVED
        )
        if program is not None:
            payouts = payouts.filter(program=program)
        ids = list(payouts.order_by("id").values_list("id", flat=True))
        if not ids:
            raise Conflict("nothing_to_pay", _("没有待编批的已审核申请"))
        batch = PayoutBatch.objects.create(program=program, created_by=user)
        for payout in Payout.objects.filter(pk__in=ids).order_by("id"):  # locked above
            payout_transition(payout, P.BATCHED, batch=batch, actor=user, request=request)
        totals = Payout.objects.filter(batch=batch).aggregate(total=Sum("amount"))
        batch.count = len(ids)
        batch.total = totals["total"] or ZERO
        batch.save(update_fields=["count", "total"])
        audit_log(
            "payout_batch_created",
            actor=user,
            request=request,
            obj=batch,
            count=batch.count,
            total=money_str(batch.total),
            program=program.code if program else None,
        )
    return batch


def batch_get(batch_id: int, *, lock: bool = False) -> PayoutBatch:
    qs = PayoutBatch.objects.select_related("program", "created_by", "approved_by")
    if lock:
        qs = PayoutBatch.objects.select_for_update()
    batch = qs.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("batch_not_found", _("发放批次不存在"))
    return batch


def batch_approve(batch_id: int, user, *, request=None) -> PayoutBatch:
    """The second person's approval. The creator may not approve their own batch (403)."""
    require_finance(user)
    with transaction.atomic():
        batch = batch_get(batch_id, lock=True)
        if batch.created_by_id == user.pk:
            raise Forbidden("batch_creator_cannot_approve", _("批次须由创建人以外的另一名财务人员复核"))
        if batch.status != PayoutBatch.Status.CREATED:
            if batch.approved_by_id == user.pk:
                return batch_get(batch_id)  # a repeated click: already done by this user
            raise Conflict("batch_already_approved", _("该批次已复核"))
        batch_transition(batch, PayoutBatch.Status.APPROVED, actor=user, request=request)
    return batch_get(batch_id)


def batch_cancel(batch_id: int, user, *, reason: str = "", request=None) -> PayoutBatch:
    """Void a batch nobody approved yet: its payouts are cancelled and each claim gets a new instruction, so the
    claims wait for the next batch (no money moves: they stay approved)."""
    require_finance(user)
    reason = (reason or "").strip()[:500] or _("财务作废批次")
    with transaction.atomic():
        claim_ids = list(Payout.objects.filter(batch_id=batch_id).values_list("claim_id", flat=True))
        claims = list(Claim.objects.select_for_update().filter(pk__in=claim_ids).order_by("id"))
        batch = batch_get(batch_id, lock=True)
        payouts = {
            p.claim_id: p for p in Payout.objects.select_for_update().filter(batch=batch).order_by("id")
        }
        batch_transition(batch, PayoutBatch.Status.CANCELLED, actor=user, reason=reason, request=request)
        for claim in claims:
            payout_transition(payouts[claim.pk], P.CANCELLED, actor=user, reason=reason, request=request)
            _payout_create_locked(claim, actor=user)
    return batch_get(batch_id)


# --- Recording the bank's answers --------------------------------------------------------------------------


class OutcomeRefused(Conflict):
    pass


def batch_complete_if_done(batch_id: int | None) -> None:
    """Mark an approved batch completed once none of its payouts is open (inside the caller's transaction)."""
    if batch_id is None:
        return
    if Payout.objects.filter(batch_id=batch_id, status__in=OPEN_PAYOUT_STATUSES).exists():
        return
    batch = PayoutBatch.objects.select_for_update().get(pk=batch_id)
    if batch.status == PayoutBatch.Status.APPROVED:
        batch_transition(batch, PayoutBatch.Status.COMPLETED)


# --- Gateway route -------------------------------------------------------------------------------------------


def gateway_enabled() -> bool:
    return bool(getattr(settings, "PAYOUT_GATEWAY_URL", ""))


def _enqueue_send(payout_id: int) -> None:
    try:
        tasks.payout_send_task.delay(payout_id)
    except Exception:  # the sweep sends what was not queued
        log.exception("could not queue sending payout %s", payout_id)


def payout_send(payout_id: int, gateway=None) -> str:
    """Send one payout through the bank gateway and record the answer. Returns the payout's status afterwards.

    The payout is marked `submitted` (in its own transaction) before anything goes to the bank, so a batch can
    never take it and a crash leaves a record that it may have been sent; a `submitted` payout is resumed by asking
    the bank for the status under the same idempotency key before anything is sent again.
    """

    gateway = gateway or gateway_from_settings()
    if gateway is None:
        return "no_gateway"
    with transaction.atomic():
        payout = Payout.objects.select_for_update().select_related("claim").filter(pk=payout_id).first()
        if payout is None:
            return "missing"
        if payout.status == P.PENDING and payout.batch_id is None and payout.claim.status == S.APPROVED:
            resume = False
            payout_transition(payout, P.SUBMITTED, source="gateway")
        elif payout.status == P.SUBMITTED:
            resume = True
        else:
            return payout.status
        payout.send_attempts += 1
        payout.save(update_fields=["send_attempts", "updated_at"])
        instruction = PayoutInstruction(
            key=f"payout-{payout.pk}",
            claim_number=payout.claim.claim_number,
            payee_name=payout.payee_name,
            account_number=payout.bank_account,
            bank_name=payout.bank_name,
            amount=payout.amount,
            purpose=payout_purpose(payout.claim.claim_number),
        )
    outcome = gateway.pay(instruction, resume=resume)
    if outcome.status == "unknown":
        log.warning("payout %s: outcome unknown (%s); will ask the bank again", payout_id, outcome.reason)
        return P.SUBMITTED
    return payout_record_gateway_outcome(payout_id, outcome.status, outcome.bank_reference, outcome.reason)


def payout_record_gateway_outcome(payout_id: int, status: str, reference: str, reason: str) -> str:
    """Record what the bank's API answered for a submitted payout (booked -> paid, refused -> failed)."""
    claim_id, program_id = Payout.objects.filter(pk=payout_id).values_list("claim_id", "program_id").get()
    with transaction.atomic():
        program = program_lock(program_id)
        claim = Claim.objects.select_for_update().get(pk=claim_id)
        payout = Payout.objects.select_for_update().get(pk=payout_id)
        if payout.status != P.SUBMITTED:
            return payout.status  # recorded already (a concurrent worker or a redelivered task)
        if status == "booked":
            payout_transition(
                payout, P.PAID, claim=claim, program=program, reference=reference, source="gateway"
            )
        elif status == "refused":
            payout_transition(payout, P.FAILED, claim=claim, reason=failure_reason(reason), source="gateway")
        else:  # pragma: no cover
            raise ValueError(status)
        return payout.status


# --- Failed payouts: new bank details, retries ----------------------------------------------------------------


def claim_bank_account_change(
    claim_number: str, id_number: str, raw: Mapping[str, Any], *, request=None
) -> Claim:
    """The applicant's new bank details after a failed payout.

    Only while `payout_failed`; validated like a submission (the holder must be the applicant: the subsidy is paid to the buyer only). The claim goes
    back to `approved` at once and its new payout instruction is queued after commit, so finance's next batch
    takes it. A refusal writes nothing.
    """

    claim = claim_for_applicant(claim_number, id_number)
    _require_payout_failed(claim)
    parsed = claim_input_parse(
        claim.program,
        raw,
        {},
        fields=BANK_FIELDS,
        documents=(),
        current={"applicant_name": claim.applicant_name},
    )
    values = parsed.values
    with transaction.atomic():
        program = program_lock(claim.program_id)
        claim = claim_for_applicant(claim_number, id_number, lock=True)
        _require_payout_failed(claim)
        if Payout.objects.filter(claim=claim, status__in=LIVE_PAYOUT_STATUSES).exists():  # pragma: no cover
            raise Conflict("payout_in_progress", _("该申请已有进行中的发放，不能更改银行卡"))
        old_masked = claim.bank_account_masked
        claim.bank_name = values["bank_name"]
        claim.account_holder = values["account_holder"]
        claim.set_pii(bank_account=values["bank_account"])
        claim.payout_failure_reason = ""
        claim_transition(
            claim,
            S.APPROVED,
            program=program,
            actor_label="applicant",
            reason_code="bank_account_changed",
            reason=_("已提交新的银行卡信息，等待重新发放"),
            data={"bank_account": claim.bank_account_masked},
            update_fields=[
                "bank_name",
                "account_holder",
                "bank_account",
                "bank_account_hash",
                "bank_account_masked",
                "payout_failure_reason",
            ],
        )
        audit_log(
            "bank_account_changed",
            request=request,
            claim=claim,
            actor_label="applicant",
            old_bank_account=old_masked,
            new_bank_account=claim.bank_account_masked,
        )
        claim_id = claim.pk
        transaction.on_commit(lambda: _after_bank_change(claim_id))
    return claim


def _require_payout_failed(claim: Claim) -> None:
    if claim.status != S.PAYOUT_FAILED:
        raise Conflict(
            "bank_account_change_not_allowed",
            _("只有发放失败的申请才能更改收款银行卡（当前状态：%(s)s）")
            % {"s": ClaimStatus(claim.status).label},
        )


def _after_bank_change(claim_id: int) -> None:
    try:
        claim_refresh_checks(claim_id)  # the Luhn check of the new card
    except Exception:
        log.exception("checks failed for claim id %s", claim_id)
    try:
        payout_enqueue_for_claim(claim_id)
    except Exception:  # the sweep and the next batch create it anyway
        log.exception("could not queue the payout of claim id %s", claim_id)


def payout_retry(claim_number: str, user, *, request=None) -> Claim:
    """Finance retries a failed payout with the same bank details (e.g. the bank's system was down)."""
    require_finance(user)
    program_id = Claim.objects.filter(claim_number=claim_number).values_list("program_id", flat=True).first()
    if program_id is None:
        raise NotFound("claim_not_found", _("申请不存在"))
    with transaction.atomic():
        program = program_lock(program_id)
        claim = Claim.objects.select_for_update().get(claim_number=claim_number)
        _require_payout_failed(claim)
        claim.payout_failure_reason = ""
        claim_transition(
            claim,
            S.APPROVED,
            program=program,
            actor=user,
            reason_code="payout_retry",
            reason=_("财务安排重新发放"),
            update_fields=["payout_failure_reason"],
        )
        audit_log("payout_retry", actor=user, request=request, claim=claim)
        claim_id = claim.pk
        transaction.on_commit(lambda: _after_bank_change(claim_id))
    return claim
