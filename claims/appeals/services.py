"""Appeals against a rejection: the applicant's appeal and a second reviewer's decision.

An appeal is allowed only while the claim is `rejected`, within `appeal_days` of the rejection, once per claim
(a unique row per claim). A reviewer who did not reject the claim (nor entered it at the counter) decides: upheld
puts the claim back at its ORIGINAL number (`under_review` when the money left covers it and nobody waitlisted is
ahead of it, otherwise `waitlisted` at its own place: promotion goes by number, so it is never behind later
claims); dismissed makes the rejection final. Each step is one transaction with its event, audit row and SMS.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.accounts.roles import REVIEWER, has_role
from claims.appeals.models import Appeal, AppealDecision
from claims.audit.services import audit_log
from claims.errors import Conflict, FieldError, Forbidden, NotFound, ServiceError
from claims.intake.applicant import claim_for_applicant
from claims.intake.models import ClaimEvent, ClaimStatus
from claims.intake.services import (
    claim_after_documents_change,
    claim_documents_create,
    claim_input_parse,
    documents_stored,
)
from claims.intake.transitions import claim_transition
from claims.models import Claim
from claims.notifications.services import appeal_deadline
from claims.programs.budget import program_lock
from claims.vocabulary import DECLARED_FIELD_NAMES, DOCUMENT_KINDS

S = ClaimStatus
MAX_REASON = 2000


def _not_allowed(message: str) -> Conflict:
    return Conflict("appeal_not_allowed", message)


def claim_rejection_event(claim: Claim) -> ClaimEvent | None:
    return ClaimEvent.objects.filter(claim=claim, to_status=S.REJECTED).order_by("-id").first()


def appeal_window(claim: Claim, today: dt.date | None = None) -> dt.date | None:
    """The last day the applicant may appeal, or None when the claim cannot (or can no longer) be appealed."""
    if claim.status != S.REJECTED or Appeal.objects.filter(claim=claim).exists():
        return None
    rejection = claim_rejection_event(claim)
    if rejection is None:
        return None
    deadline = appeal_deadline(claim, rejection.created_at)
    return deadline if (today or timezone.localdate()) <= deadline else None


def _check_appealable(claim: Claim, today: dt.date) -> ClaimEvent:
    if Appeal.objects.filter(claim=claim).exists():
        raise _not_allowed(_("每件申请只能申诉一次，本申请已申诉过"))
    if claim.status != S.REJECTED:
        raise _not_allowed(_("只有未通过的申请才能申诉，当前状态为“%(s)s”") % {"s": S(claim.status).label})
    rejection = claim_rejection_event(claim)
    if rejection is None:  # pragma: no cover - a rejected claim always has its event
        raise _not_allowed(_("未找到不通过记录，不能申诉"))
    deadline = appeal_deadline(claim, rejection.created_at)
    if today > deadline:
        raise _not_allowed(_("申诉期限（%(d)s）已过，不能再申诉") % {"d": deadline.isoformat()})
    active = Claim.objects.exclude(status__in=[S.REJECTED, S.WITHDRAWN]).exclude(pk=claim.pk)
    if (
        active.filter(vin=claim.vin).exists()
        or active.filter(invoice_code=claim.invoice_code, invoice_number=claim.invoice_number).exists()
    ):
        raise _not_allowed(_("该车辆或发票已有其他在办的补贴申请，不能申诉"))
    return rejection


def claim_appeal(
    claim_number: str, id_number: str, reason: str, files: Mapping[str, Any], *, request=None
) -> Claim:
    """rejected -> appealed, with the applicant's reason and any new documents (replacing those of their kind)."""
    claim = claim_for_applicant(claim_number, id_number)
    reason = (reason or "").replace("\x00", "").strip()
    if not reason:
        raise ServiceError(
            "reason_required",
            _("请填写申诉理由"),
            fields={"reason": [FieldError("reason_required", _("请填写申诉理由"), "reason")]},
        )
    today = timezone.localdate()
    _check_appealable(claim, today)  # refuse early, before any file is validated or stored
    documents = tuple(kind for kind in DOCUMENT_KINDS if files.get(kind))
    current = {name: getattr(claim, name) for name in DECLARED_FIELD_NAMES}
    parsed = claim_input_parse(claim.program, {}, files, fields=(), documents=documents, current=current)
    try:
        with documents_stored(parsed) as stored, transaction.atomic():
            claim = claim_for_applicant(claim_number, id_number, lock=True)
            rejection = _check_appealable(claim, today)
            Appeal.objects.create(
                claim=claim,
                reason=reason[:MAX_REASON],
                documents=list(documents),
                rejected_at=rejection.created_at,
                rejected_by=rejection.actor,
                rejection_reason=rejection.reason,
            )
            claim_transition(
                claim,
                S.APPEALED,
                actor_label="applicant",
                reason_code="appealed",
                reason=_("申请人已提出申诉，等待另一名审核员复核"),
                data={"documents": list(documents)},
            )
            if documents:
                claim_documents_create(claim, parsed, stored)
            audit_log(
                "claim_appealed",
                request=request,
                claim=claim,
                actor_label="applicant",
                reason=reason[:MAX_REASON],
                documents=list(documents),
            )
            claim_id = claim.pk
            if documents:
                transaction.on_commit(lambda: claim_after_documents_change(claim_id))
    except Conflict as exc:
        if exc.code in ("duplicate_vehicle", "duplicate_invoice"):  # lost a race to a new claim for this car
            raise _not_allowed(_("该车辆或发票已有其他在办的补贴申请，不能申诉")) from None
        raise
    except IntegrityError:
        raise _not_allowed(_("每件申请只能申诉一次，本申请已申诉过")) from None
    return claim


def appeal_decide(claim_number: str, *, actor, decision: str, note: str = "", request=None) -> Claim:
    """A second reviewer's decision on an appeal: `upheld` or `dismissed`."""
    if not has_role(actor, REVIEWER):
        raise Forbidden("permission_denied", _("只有审核员可以复核申诉"))
    decision = (decision or "").strip()
    note = (note or "").replace("\x00", "").strip()[:MAX_REASON]
    if decision not in AppealDecision.values:
        raise ServiceError(
            "invalid_input",
            _("复核结果必须是 upheld（申诉成立）或 dismissed（申诉不成立）"),
            fields={"decision": [FieldError("invalid_choice", _("请选择复核结果"), "decision")]},
        )
    if decision == AppealDecision.DISMISSED and not note:
        raise ServiceError(
            "reason_required",
            _("驳回申诉须填写复核意见，申请人将看到该意见"),
            fields={"note": [FieldError("reason_required", _("请填写复核意见"), "note")]},
        )
    number = (claim_number or "").strip().upper()
    program_id = Claim.objects.filter(claim_number=number).values_list("program_id", flat=True).first()
    if program_id is None:
        raise NotFound("claim_not_found", _("申请不存在"))
    with transaction.atomic():
        program = program_lock(program_id)
        claim = Claim.objects.select_for_update().get(claim_number=number)
        appeal = Appeal.objects.select_for_update().filter(claim=claim).first()
        if appeal is None or appeal.decision or claim.status != S.APPEALED:
            raise Conflict("invalid_transition", _("该申请没有待复核的申诉"))
        if actor.pk in (appeal.rejected_by_id, claim.taken_by_id):
            raise Forbidden(
                "same_person", _("作出不通过决定（或窗口录入）的审核员不能复核本申诉，须由另一名审核员复核")
            )
        now = timezone.now()
        if decision == AppealDecision.UPHELD:
            ahead = Claim.objects.filter(program=program, status=S.WAITLISTED, seq__lt=claim.seq).exists()
            to_status = (
                S.UNDER_REVIEW if claim.subsidy_amount <= program.available and not ahead else S.WAITLISTED
            )
            claim.decided_at, claim.decided_by, claim.reject_reason = None, None, ""
            text = _("申诉成立，申请按原受理顺序恢复办理")
            claim_transition(
                claim,
                to_status,
                program=program,
                actor=actor,
                reason_code="appeal_upheld",
                reason=f"{text}：{note}" if note else text,
                data={"note": note} if note else {},
                update_fields=["decided_at", "decided_by", "reject_reason"],
            )
        else:
            claim.decided_at, claim.decided_by = now, actor
            claim_transition(
                claim,
                S.REJECTED,
                actor=actor,
                reason_code="appeal_dismissed",
                reason=note,
                data={"note": note},
                update_fields=["decided_at", "decided_by"],
            )
        appeal.decision, appeal.decided_at, appeal.decided_by, appeal.note = decision, now, actor, note
        appeal.save(update_fields=["decision", "decided_at", "decided_by", "note"])
        audit_log(
            "appeal_upheld" if decision == AppealDecision.UPHELD else "appeal_dismissed",
            actor=actor,
            request=request,
            claim=claim,
            status=claim.status,
            note=note,
        )
    return claim


def claim_appeal_view(claim: Claim) -> dict[str, Any] | None:
    """The appeal as its applicant sees it (None when there is none), with the last day to appeal otherwise."""
    appeal = Appeal.objects.filter(claim=claim).first()
    if appeal is None:
        deadline = appeal_window(claim)
        return {"can_appeal": True, "deadline": deadline.isoformat()} if deadline else None
    return {
        "can_appeal": False,
        "reason": appeal.reason,
        "documents": appeal.documents,
        "submitted_at": appeal.submitted_at.isoformat(),
        "decision": appeal.decision or None,
        "decision_display": str(AppealDecision(appeal.decision).label) if appeal.decision else None,
        "decided_at": appeal.decided_at.isoformat() if appeal.decided_at else None,
        "note": appeal.note,
    }


def appeal_staff_view(claim: Claim, user=None) -> dict[str, Any] | None:
    """The appeal on the review page: what the applicant said, the rejection it is against, the outcome, and
    whether `user` may decide it (a reviewer other than the one who rejected or entered the claim)."""
    appeal = Appeal.objects.select_related("rejected_by", "decided_by").filter(claim=claim).first()
    if appeal is None:
        return None
    pending = not appeal.decision and claim.status == S.APPEALED
    same = user is not None and user.pk in (appeal.rejected_by_id, claim.taken_by_id)
    return {
        "reason": appeal.reason,
        "documents": appeal.documents,
        "submitted_at": appeal.submitted_at,
        "rejected_at": appeal.rejected_at,
        "rejected_by": appeal.rejected_by.get_username() if appeal.rejected_by else "",
        "rejection_reason": appeal.rejection_reason,
        "decision": appeal.decision,
        "decision_display": str(AppealDecision(appeal.decision).label) if appeal.decision else "",
        "decided_by": appeal.decided_by.get_username() if appeal.decided_by else "",
        "decided_at": appeal.decided_at,
        "note": appeal.note,
        "pending": pending,
        "same_person": same,
        "can_decide": pending and not same and has_role(user, REVIEWER),
    }
