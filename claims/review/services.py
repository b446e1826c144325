"""Review: reviewers' decisions, applicants' corrections, expiry of returned claims, counter intake.

Every decision locks the claim row (after the program row when money moves: lock order program, then claim),
lets `claim_transition` re-check the status, and writes an event plus an audit row in the same transaction.
Two reviewers acting on one claim at once therefore get one decision; the other gets 409 `invalid_transition`.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.accounts.roles import CLERK, REVIEWER, has_role
from claims.audit.services import audit_log
from claims.errors import Conflict, FieldError, Forbidden, NotFound, ServiceError, ValidationFailed
from claims.intake.applicant import claim_for_applicant
from claims.intake.models import Channel, ClaimStatus
from claims.intake.services import (
    SubmitResult,
    claim_after_documents_change,
    claim_documents_create,
    claim_input_parse,
    claim_submit,
    documents_stored,
)
from claims.intake.transitions import ALLOWED, TransitionNotAllowed, claim_transition, ledger_move
from claims.models import AuditLog, Claim, LedgerEntry
from claims.money import money_str
from claims.payouts.services import payout_enqueue_for_claim
from claims.programs.budget import budget_can_reserve, program_lock, waitlist_promote
from claims.vocabulary import (
    CORRECTABLE_FIELDS,
    DECLARED_FIELD_NAMES,
    DOCUMENT_KINDS,
    FIELDS,
    REJECT_REASONS,
    RETURN_REASONS,
)

log = logging.getLogger(__name__)

# The audit action written when a reviewer is shown a claim's review page or staff detail (see review/pii.py).
OPENED_ACTION = "pii_view"

S = ClaimStatus

# What a reviewer may ask the applicant to correct: the correctable declared fields and every document.
RETURNABLE_FIELDS: tuple[str, ...] = CORRECTABLE_FIELDS
RETURNABLE_DOCUMENTS: tuple[str, ...] = DOCUMENT_KINDS


def reason_choices(kind: str) -> list[dict[str, str]]:
    reasons = RETURN_REASONS if kind == "return" else REJECT_REASONS
    return [{"code": code, "text": str(text)} for code, text in reasons.items()]


def _reason_text(
    reasons: Mapping[str, Any], reason_code: str, free_text: str, *, required: str = ""
) -> tuple[str, str]:
    """(code, the text shown to the applicant). `free_text` alone is fine; a known code may replace it.

    `required` (the review pages): a code must be chosen, and this is the message when none is.
    """
    reason_code = (reason_code or "").strip()
    free_text = (free_text or "").strip()
    if required and not reason_code:
        raise ServiceError(
            "reason_code_required",
            required,
            fields={"reason_code": [FieldError("reason_code_required", required, "reason_code")]},
        )
    if not reason_code and free_text in reasons:  # `{"reason": "document_unclear"}`
        reason_code, free_text = free_text, ""
    if reason_code and reason_code not in reasons:
        raise ServiceError(
            "invalid_reason_code",
            _("原因代码无效，可选：%(c)s") % {"c": "、".join(reasons)},
            fields={"reason_code": [FieldError("invalid_reason_code", _("原因代码无效"), "reason_code")]},
        )
    if not reason_code:
        reason_code = "other"
    if reason_code == "other" and not free_text:
        raise ServiceError(
            "reason_required",
            _("选择“其他原因”时须填写说明（申请人可见）") if required else _("请选择标准原因或填写具体原因"),
            fields={"reason": [FieldError("reason_required", _("请填写原因"), "reason")]},
        )
    if reason_code == "other":
        return reason_code, free_text[:2000]
    standard = str(reasons[reason_code])
    return reason_code, (f"{standard}：{free_text}" if free_text else standard)[:2000]


def _names(values: Sequence[str] | None, allowed: Sequence[str], field: str) -> list[str]:
    names: list[str] = []
    for name in values or ():
        name = str(name).strip()
        if name not in allowed:
            raise ServiceError(
                "invalid_field_name",
                _("“%(n)s”不是可退回补正的项目") % {"n": name},
                fields={
                    field: [FieldError("invalid_field_name", _("无效的项目：%(n)s") % {"n": name}, field)]
                },
            )
        if name not in names:
            names.append(name)
    return names


def _require_reviewer(actor) -> None:
    if not has_role(actor, REVIEWER):
        raise Forbidden("permission_denied", _("只有审核员可以审核申请"))


def _require_not_entered_by(claim: Claim, actor) -> None:
    """Separation of duties: whoever entered a claim at the counter never decides it."""
    if claim.taken_by_id is not None and claim.taken_by_id == getattr(actor, "pk", None):
        raise Forbidden(
            "same_person", _("您是该申请的窗口受理人，不能审核自己受理的申请，请由其他审核员审核")
        )


def claim_opened_since_last_change(claim: Claim, actor) -> bool:
    """Whether `actor` opened the claim (its review page or staff detail) since its last status change.

    Opening is recorded by the audited display of the claim's personal data to a reviewer (`pii_view`).
    """
    last = claim.events.order_by("-id").values_list("created_at", flat=True).first()
    views = AuditLog.objects.filter(claim=claim, actor_id=getattr(actor, "pk", None), action=OPENED_ACTION)
    if last is not None:
        views = views.filter(created_at__gte=last)
    return views.exists()


def _require_opened(claim: Claim, actor, to_status: str) -> None:
    if to_status not in ALLOWED[claim.status]:  # a move that is not allowed says so first
        raise TransitionNotAllowed(claim, to_status)
    if not claim_opened_since_last_change(claim, actor):
        raise Conflict(
            "claim_not_opened", _("请先打开该申请的审核页面，核对材料后再作出决定（不能未经查看直接审核）")
        )


def _locked_claim(claim_number: str) -> Claim:
    claim = (
        Claim.objects.select_for_update().filter(claim_number=(claim_number or "").strip().upper()).first()
    )
    if claim is None:
        raise NotFound("claim_not_found", _("申请不存在"))
    return claim


def _claim_program_id(claim_number: str) -> int:
    program_id = (
        Claim.objects.filter(claim_number=(claim_number or "").strip().upper())
        .values_list("program_id", flat=True)
        .first()
    )
    if program_id is None:
        raise NotFound("claim_not_found", _("申请不存在"))
    return program_id


# --- Decisions -------------------------------------------------------------------------------------------------


def claim_approve(
    claim_number: str, *, actor, note: str = "", require_opened: bool = False, request=None
) -> Claim:
    """under_review -> approved; the payout is queued after commit.

    `require_opened` (the review pages): refused unless the reviewer opened the claim since its last change.
    """
    _require_reviewer(actor)
    with transaction.atomic():
        claim = _locked_claim(claim_number)
        _require_not_entered_by(claim, actor)
        if require_opened:
            _require_opened(claim, actor, S.APPROVED)
        now = timezone.now()
        claim.decided_at, claim.decided_by = now, actor
        claim_transition(
            claim,
            S.APPROVED,
            actor=actor,
            reason_code="approved",
            reason=_("审核通过，等待发放补贴"),
            data={"note": (note or "")[:2000]} if note else {},
            update_fields=["decided_at", "decided_by"],
        )
        audit_log("claim_approved", actor=actor, request=request, claim=claim, note=(note or "")[:2000])
        claim_id = claim.pk
        transaction.on_commit(lambda: _enqueue_payout(claim_id))
    return claim


def _enqueue_payout(claim_id: int) -> None:
    try:
        payout_enqueue_for_claim(claim_id)
    except Exception:  # the approval stands; finance's batch picks up every approved claim anyway
        log.exception("could not queue the payout of claim id %s", claim_id)


def claim_reject(
    claim_number: str,
    *,
    actor,
    reason: str = "",
    reason_code: str = "",
    note: str = "",
    require_opened: bool = False,
    require_reason_code: bool = False,
    request=None,
) -> Claim:
    """-> rejected: the money is released and the waitlist moves up. The review pages (`require_reason_code`)
    must choose a reason; "other" needs the explanation."""
    _require_reviewer(actor)
    required = _("请选择不予通过原因") if require_reason_code else ""
    code, text = _reason_text(REJECT_REASONS, reason_code, reason, required=required)
    program_id = _claim_program_id(claim_number)
    with transaction.atomic():
        program = program_lock(program_id)
        claim = _locked_claim(claim_number)
        _require_not_entered_by(claim, actor)
        if require_opened:
            _require_opened(claim, actor, S.REJECTED)
        claim.decided_at, claim.decided_by = timezone.now(), actor
        claim.reject_reason = text
        claim_transition(
            claim,
            S.REJECTED,
            program=program,
            actor=actor,
            reason_code=code,
            reason=text,
            data={"note": note[:2000]} if note else {},
            update_fields=["decided_at", "decided_by", "reject_reason"],
        )
        promoted = waitlist_promote(program)
        audit_log(
            "claim_rejected",
            actor=actor,
            request=request,
            claim=claim,
            reason_code=code,
            reason=text,
            note=(note or "")[:2000],
            promoted=[c.claim_number for c in promoted],
        )
    return claim


def claim_return(
    claim_number: str,
    *,
    actor,
    reason: str = "",
    reason_code: str = "",
    fields: Sequence[str] | None = None,
    documents: Sequence[str] | None = None,
    note: str = "",
    require_items: bool = False,
    require_reason_code: bool = False,
    request=None,
) -> Claim:
    """under_review -> returned for correction by `today + program.correction_days`; the money stays reserved.

    `fields` / `documents` name what the applicant may change. The review pages (`require_items`) must name at
    least one, and choose a reason (`require_reason_code`); an API call naming none opens every correctable field
    and document, as the public API always has.
    """
    _require_reviewer(actor)
    required = _("请选择退回原因") if require_reason_code else ""
    code, text = _reason_text(RETURN_REASONS, reason_code, reason, required=required)
    field_names = _names(fields, RETURNABLE_FIELDS, "fields")
    document_names = _names(documents, RETURNABLE_DOCUMENTS, "documents")
    if require_items and not field_names and not document_names:
        raise ServiceError(
            "return_items_required",
            _("请至少选择一项需要申请人更正的信息或重新上传的材料"),
            fields={"fields": [FieldError("return_items_required", _("请至少选择一项"), "fields")]},
        )
    with transaction.atomic():
        claim = _locked_claim(claim_number)
        _require_not_entered_by(claim, actor)
        deadline = timezone.localdate() + dt.timedelta(days=claim.program.correction_days)
        claim.decided_at, claim.decided_by = timezone.now(), actor
        claim.return_reason_code, claim.return_reason = code, text
        claim.returned_fields, claim.returned_documents = field_names, document_names
        claim.correction_deadline = deadline
        claim_transition(
            claim,
            S.RETURNED,
            actor=actor,
            reason_code=code,
            reason=text,
            data={
                "fields": field_names,
                "documents": document_names,
                "deadline": deadline.isoformat(),
                **({"note": note[:2000]} if note else {}),
            },
            update_fields=[
                "decided_at",
                "decided_by",
                "return_reason_code",
                "return_reason",
                "returned_fields",
                "returned_documents",
                "correction_deadline",
            ],
        )
        audit_log(
            "claim_returned",
            actor=actor,
            request=request,
            claim=claim,
            reason_code=code,
            reason=text,
            fields=field_names,
            documents=document_names,
            deadline=deadline.isoformat(),
            note=(note or "")[:2000],
        )
    return claim


@dataclass
class BulkResult:
    done: list[str]
    failed: list[tuple[str, str]]  # (claim number, message)


def claims_approve_bulk(claim_numbers: Sequence[str], *, actor, note: str = "", request=None) -> BulkResult:
    """Approve several claims, each in its own transaction through `claim_approve`; refusals are reported."""
    result = BulkResult([], [])
    for number in claim_numbers:
        try:
            claim_approve(number, actor=actor, note=note, request=request)
        except ServiceError as exc:
            result.failed.append((number, exc.message))
        else:
            result.done.append(number)
    return result


# --- Corrections -----------------------------------------------------------------------------------------------


def _current_values(claim: Claim) -> dict[str, Any]:
    values = {name: getattr(claim, name) for name in DECLARED_FIELD_NAMES}
    return values


def _sent(raw: Mapping[str, Any], name: str) -> bool:
    value = raw.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    return value is not None and str(value).strip() != ""


def claim_correct(
    claim_number: str, id_number: str, raw: Mapping[str, Any], files: Mapping[str, Any]
) -> Claim:
    """The applicant's correction of a returned claim: back to under_review at its original place (same seq).

    Only the fields and documents the reviewer named may be sent; every named document must be replaced. The
    values are validated like a submission. If the subsidy changes, the reservation follows it: a smaller amount
    releases the difference (and the waitlist moves up); a larger one takes the difference only when it is
    available and nobody waits, otherwise the claim keeps its old amount and `requested_subsidy_amount` flags it.
    """
    claim = claim_for_applicant(claim_number, id_number)
    _check_correctable(claim)
    allowed_fields = claim.returned_fields or list(RETURNABLE_FIELDS)
    allowed_docs = claim.returned_documents or list(RETURNABLE_DOCUMENTS)
    refused: list[FieldError] = []
    for name in CORRECTABLE_FIELDS:
        if _sent(raw, name) and name not in allowed_fields:
            refused.append(FieldError("field_not_returned", _("此项不在退回补正的范围内，不能修改"), name))
    for kind in DOCUMENT_KINDS:
        if files.get(kind) and kind not in allowed_docs:
            refused.append(
                FieldError("field_not_returned", _("此材料不在退回补正的范围内，不能重新上传"), kind)
            )
    if refused:
        raise ValidationFailed(refused)
    fields = tuple(name for name in allowed_fields if _sent(raw, name))
    # Named documents must all be replaced; with no documents named, only those sent are replaced.
    documents = tuple(claim.returned_documents) or tuple(k for k in DOCUMENT_KINDS if files.get(k))
    if not fields and not documents:
        raise ServiceError("nothing_to_correct", _("请填写需要更正的信息或上传需要补正的材料"))
    parsed = claim_input_parse(
        claim.program, raw, files, fields=fields, documents=documents, current=_current_values(claim)
    )
    with documents_stored(parsed) as stored, transaction.atomic():
        program = program_lock(claim.program_id)
        claim = claim_for_applicant(claim_number, id_number, lock=True)
        _check_correctable(claim)
        _raise_duplicates_except(claim, parsed.values)
        if "dealer_credit_code" in parsed.values and "dealer_name" not in parsed.values:
            dealers = {d.credit_code: d.name for d in program.dealers.all()}
            parsed.values["dealer_name"] = dealers.get(parsed.values["dealer_credit_code"], "")
        changed = _apply_values(claim, parsed.values)
        old_amount, new_amount = claim.subsidy_amount, parsed.subsidy_amount
        assert new_amount is not None and parsed.tier_position is not None
        budget_note = _follow_amount(program, claim, old_amount, new_amount)
        claim.tier_position = parsed.tier_position
        claim.correction_deadline = None
        claim_transition(
            claim,
            S.UNDER_REVIEW,
            program=program,
            actor_label="applicant",
            reason_code="corrected",
            reason=_("申请人已补正，申请重新进入审核（保留原受理顺序）"),
            data={
                "fields": changed,
                "documents": list(parsed.documents),
                "old_subsidy_amount": money_str(old_amount),
                "new_subsidy_amount": money_str(new_amount),
                "budget": budget_note,
            },
        )
        claim_documents_create(claim, parsed, stored)
        if budget_note == "released":
            waitlist_promote(program)
        audit_log(
            "claim_corrected",
            claim=claim,
            actor_label="applicant",
            fields=changed,
            documents=list(parsed.documents),
            old_subsidy_amount=money_str(old_amount),
            new_subsidy_amount=money_str(new_amount),
            budget=budget_note,
        )
        claim_id = claim.pk
        transaction.on_commit(lambda: claim_after_documents_change(claim_id))
    return claim


def _check_correctable(claim: Claim) -> None:
    if claim.status != S.RETURNED:
        raise Conflict(
            "not_returned", _("只有退回补正的申请才能补正，当前状态为“%(s)s”") % {"s": S(claim.status).label}
        )
    if claim.correction_deadline and timezone.localdate() > claim.correction_deadline:
        raise Conflict(
            "correction_deadline_passed",
            _("补正期限（%(d)s）已过，不能再补正") % {"d": claim.correction_deadline.isoformat()},
        )


def _raise_duplicates_except(claim: Claim, values: dict[str, Any]) -> None:
    active = Claim.objects.exclude(status__in=[S.REJECTED, S.WITHDRAWN]).exclude(pk=claim.pk)
    if "vin" in values and active.filter(vin=values["vin"]).exists():
        raise Conflict("duplicate_vehicle", _("该车辆（车架号）已有在办或已完成的补贴申请"))
    if "invoice_number" in values or "invoice_code" in values:
        code = values.get("invoice_code", claim.invoice_code)
        number = values.get("invoice_number", claim.invoice_number)
        if active.filter(invoice_code=code, invoice_number=number).exists():
            raise Conflict("duplicate_invoice", _("该发票已用于其他补贴申请"))


def _apply_values(claim: Claim, values: dict[str, Any]) -> list[str]:
    """Set the corrected values on the claim (PII through set_pii); the names of those that changed."""
    changed = []
    for name, value in values.items():
        if name == "id_number":
            continue
        if getattr(claim, name) != value:
            changed.append(name)
        if FIELDS[name].pii:
            claim.set_pii(**{name: value})
        else:
            setattr(claim, name, value)
    return changed


def _follow_amount(program, claim: Claim, old: Decimal, new: Decimal) -> str:
    """Move the reservation to the corrected subsidy (caller holds the program and claim locks)."""
    claim.requested_subsidy_amount = None
    if new == old:
        return "unchanged"
    if new < old:
        claim.subsidy_amount = new  # saved by the transition that follows, in the same transaction
        ledger_move(program, LedgerEntry.Kind.RELEASE, old - new, claim, note="correction: smaller subsidy")
        return "released"
    if budget_can_reserve(program, new - old):
        claim.subsidy_amount = new
        ledger_move(program, LedgerEntry.Kind.RESERVE, new - old, claim, note="correction: larger subsidy")
        return "reserved"
    claim.requested_subsidy_amount = (
        new  # the reviewer sees the flag; the claim keeps its place and old amount
    )
    return "kept_old_amount"


# --- Expiry of returned claims ---------------------------------------------------------------------------------


def returned_overdue_ids(today: dt.date | None = None, limit: int = 500) -> list[int]:
    today = today or timezone.localdate()
    return list(
        Claim.objects.filter(status=S.RETURNED, correction_deadline__lt=today)
        .order_by("correction_deadline", "id")
        .values_list("pk", flat=True)[:limit]
    )


def claim_expire_returned(claim_id: int, today: dt.date | None = None) -> bool:
    """Expire one returned claim whose correction deadline has passed; False when there is nothing to do."""
    today = today or timezone.localdate()
    program_id = Claim.objects.filter(pk=claim_id).values_list("program_id", flat=True).first()
    if program_id is None:
        return False
    with transaction.atomic():
        program = program_lock(program_id)
        claim = Claim.objects.select_for_update().get(pk=claim_id)
        if (
            claim.status != S.RETURNED
            or claim.correction_deadline is None
            or claim.correction_deadline >= today
        ):
            return False  # corrected, decided or extended meanwhile: idempotent
        claim_transition(
            claim,
            S.EXPIRED,
            program=program,
            actor_label="system",
            reason_code="correction_expired",
            reason=_("未在补正期限（%(d)s）内补正，申请已过期")
            % {"d": claim.correction_deadline.isoformat()},
        )
        promoted = waitlist_promote(program)
        audit_log(
            "claim_correction_expired",
            claim=claim,
            actor_label="system",
            deadline=claim.correction_deadline.isoformat(),
            promoted=[c.claim_number for c in promoted],
        )
    return True


def _expire_each(
    claim_ids: list[int], expire: Callable[[int, dt.date | None], bool], today: dt.date | None
) -> int:
    """Expire each claim in its own transaction; the number expired."""
    done = 0
    for claim_id in claim_ids:
        try:
            done += expire(claim_id, today)
        except Exception:  # one bad row must not stop the others; it is retried on the next run
            log.exception("could not expire claim id %s", claim_id)
    return done


def returned_expire_overdue(today: dt.date | None = None, limit: int = 500) -> int:
    """Expire up to `limit` overdue returned claims. The number expired."""
    return _expire_each(returned_overdue_ids(today, limit), claim_expire_returned, today)


# --- Expiry of failed payouts without new bank details -------------------------------------------------------


def payout_fix_deadline(claim: Claim) -> dt.date | None:
    """The last day a `payout_failed` claim may get new bank details: its latest failure + `payout_fix_days`."""
    failed_at = (
        claim.events.filter(to_status=S.PAYOUT_FAILED)
        .order_by("-id")
        .values_list("created_at", flat=True)
        .first()
    )
    if failed_at is None:
        return None
    return timezone.localdate(failed_at) + dt.timedelta(days=claim.program.payout_fix_days)


def payout_failed_overdue_ids(today: dt.date | None = None, limit: int = 500) -> list[int]:
    today = today or timezone.localdate()
    overdue: list[int] = []
    claims = Claim.objects.filter(status=S.PAYOUT_FAILED).select_related("program").order_by("id")
    for claim in claims.iterator(chunk_size=500):
        deadline = payout_fix_deadline(claim)
        if deadline is not None and deadline < today:
            overdue.append(claim.pk)
            if len(overdue) >= limit:
                break
    return overdue


def claim_expire_payout_failed(claim_id: int, today: dt.date | None = None) -> bool:
    """Expire one `payout_failed` claim past its deadline for new bank details; the money is released."""
    today = today or timezone.localdate()
    program_id = Claim.objects.filter(pk=claim_id).values_list("program_id", flat=True).first()
    if program_id is None:
        return False
    with transaction.atomic():
        program = program_lock(program_id)
        claim = Claim.objects.select_for_update().get(pk=claim_id)
        deadline = payout_fix_deadline(claim) if claim.status == S.PAYOUT_FAILED else None
        if deadline is None or deadline >= today:
            return False  # new details given, retried or paid meanwhile: idempotent
        claim_transition(
            claim,
            S.EXPIRED,
            program=program,
            actor_label="system",
            reason_code="payout_fix_expired",
            reason=_("补贴发放失败后未在期限（%(d)s）内提供新的银行账户，申请已过期")
            % {"d": deadline.isoformat()},
        )
        promoted = waitlist_promote(program)
        audit_log(
            "claim_payout_fix_expired",
            claim=claim,
            actor_label="system",
            deadline=deadline.isoformat(),
            promoted=[c.claim_number for c in promoted],
        )
    return True


def payout_failed_expire_overdue(today: dt.date | None = None, limit: int = 500) -> int:
    """Expire up to `limit` payout-failed claims past their bank-details deadline. The number expired."""
    return _expire_each(payout_failed_overdue_ids(today, limit), claim_expire_payout_failed, today)


# --- Counter intake ------------------------------------------------------------------------------------------


def counter_intake(
    program_code: str, raw: Mapping[str, Any], files: Mapping[str, Any], *, clerk, request=None
) -> SubmitResult:
    """A claim entered at the counter for a walk-in applicant: same validation and queue as online.

    Counter clerks and reviewers may enter claims; the person who entered one never decides it.
    """
    if not has_role(clerk, CLERK, REVIEWER):
        raise Forbidden("permission_denied", _("只有窗口受理员或审核员可以办理窗口受理"))
    result = claim_submit(program_code, raw, files, channel=Channel.COUNTER, taken_by=clerk)
    if result.claim is not None:
        audit_log(
            "claim_counter_intake",
            actor=clerk,
            request=request,
            claim=result.claim,
            status=result.claim.status,
        )
    return result
