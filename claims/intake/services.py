"""Claim intake: parse and validate a submission (API, buyers' pages and counter alike), then submit it.

Everything is validated before anything is written; the claim number, the reservation and the choice between
`under_review` and `waitlisted` are then decided in one short transaction under the program's row lock, so
arrival order is the order of those decisions.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.errors import Conflict, FieldError, NotFound, ServiceError, ValidationFailed
from claims.intake import tasks as intake_tasks
from claims.intake import validators as v
from claims.intake.cleanup import discard_unreferenced
from claims.intake.documents import (
    InspectedDocument,
    document_inspect,
    document_journal_close,
    document_journal_open,
    document_store,
)
from claims.intake.models import RESERVED_STATUSES, Channel, ClaimStatus
from claims.intake.queue import claim_queue_position
from claims.intake.transitions import claim_transition
from claims.intake.uploads import (
    StagedDocument,
    staged_documents_resolve,
    staged_uploads_take,
    upload_field,
)
from claims.models import Claim, ClaimDocument, IdempotencyRecord, Program
from claims.money import money_str, parse_amount
from claims.programs.budget import budget_can_reserve, program_lock, waitlist_has_room
from claims.programs.services import subsidy_quote
from claims.vocabulary import DECLARED_FIELD_NAMES, DOCUMENT_KINDS, OPTIONAL_FIELDS, FuelType

log = logging.getLogger(__name__)

# A submission stores its files and commits within seconds; a journal entry older than this was interrupted.


@dataclass
class ClaimInput:
    """Declared values after validation, ready to be stored."""

    values: dict[str, Any] = field(default_factory=dict)
    # A file sent with the request (checked now) or a staged upload (checked and stored when it was uploaded).
    documents: dict[str, InspectedDocument | StagedDocument] = field(default_factory=dict)
    tier_position: int | None = None
    subsidy_amount: Decimal | None = None
    quote_basis: dict[str, Any] = field(default_factory=dict)


def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return str(value).strip()


def _date(raw: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise FieldError("invalid_date", _("日期格式应为 YYYY-MM-DD"), name) from None


def _amount(raw: str, name: str) -> Decimal:
    amount = parse_amount(raw)
    if amount is None:
        raise FieldError(
            "invalid_amount", _("请填写正确的金额（元，大于零，整数部分最多 10 位，最多两位小数）"), name
        )
    return amount


def _invoice_number(raw: str) -> str:
    digits = raw.replace(" ", "")
    if not digits.isdigit() or len(digits) not in (8, 20):
        raise FieldError(
            "invalid_invoice_number",
            _("发票号码应为 8 位（纸质发票）或 20 位（全电发票）数字"),
            "invoice_number",
        )
    return digits


def _invoice_code(raw: str) -> str:
    digits = raw.replace(" ", "")
    if not digits.isdigit() or len(digits) not in (10, 12):
        raise FieldError("invalid_invoice_code", _("发票代码应为 10 或 12 位数字"), "invoice_code")
    return digits


def _fuel_type(raw: str) -> str:
    if raw not in FuelType.values:
        raise FieldError(
            "invalid_fuel_type", _("车辆类型只能是 fuel（燃油车）或 nev（新能源车）"), "fuel_type"
        )
    return raw


FIELD_PARSERS: dict[str, Callable[[str], Any]] = {
    "applicant_name": v.validate_person_name,
    "account_holder": v.validate_person_name,
    "id_number": v.validate_id_number,
    "phone": v.validate_phone,
    "fuel_type": _fuel_type,
    "vin": v.validate_vin,
    "plate_number": v.validate_plate,
    "invoice_number": _invoice_number,
    "invoice_code": _invoice_code,
    "invoice_date": lambda s: _date(s, "invoice_date"),
    "license_issue_date": lambda s: _date(s, "license_issue_date"),
    "pos_date": lambda s: _date(s, "pos_date"),
    "invoice_amount": lambda s: _amount(s, "invoice_amount"),
    "pos_amount": lambda s: _amount(s, "pos_amount"),
    "dealer_credit_code": v.validate_credit_code,
    "bank_account": v.validate_bank_account,
    "bank_name": lambda s: s[:100],
    "dealer_name": lambda s: s[:200],
    "vehicle_model": lambda s: s[:100],
}


def claim_input_parse(
    program: Program,
    raw: Mapping[str, Any],
    files: Mapping[str, Any],
    *,
    fields: tuple[str, ...] | None = None,
    documents: tuple[str, ...] | None = None,
    current: Mapping[str, Any] | None = None,
) -> ClaimInput:
    """Validate declared fields and files; collect every problem and raise them together.

    `fields` / `documents` restrict the parse to a subset (a correction or new bank details); the rules that
    tie several fields together then use `current` (the claim's stored values) for the fields not sent.
    """
    wanted_fields = fields if fields is not None else DECLARED_FIELD_NAMES
    wanted_docs = documents if documents is not None else DOCUMENT_KINDS
    errors: list[FieldError] = []
    result = ClaimInput()
    for name in wanted_fields:
        text = _text(raw, name)
        if not text:
            if name not in OPTIONAL_FIELDS:
                errors.append(FieldError("required", _("此项为必填项"), name))
            elif name == "invoice_code":
                result.values[name] = ""
            continue
        try:
            value = FIELD_PARSERS[name](text)
        except FieldError as exc:
            errors.append(exc.for_field(name))
            continue
        result.values[name] = value
    staged, staged_errors = staged_documents_resolve(raw, wanted_docs, files)
    result.documents.update(staged)
    errors.extend(staged_errors)
    refused_staged = {e.field for e in staged_errors}
    for kind in wanted_docs:
        if kind in staged or kind in refused_staged:
            continue
        upload = files.get(kind)
        if not upload:
            errors.append(FieldError("required", _("请上传此材料"), kind))
            continue
        try:
            result.documents[kind] = document_inspect(upload, kind)
        except FieldError as exc:
            errors.append(exc.for_field(kind))

    merged = {**(current or {}), **result.values}

    def has(*names: str) -> bool:
        return all(merged.get(n) not in (None, "") for n in names)

    def touched(*names: str) -> bool:
        return any(n in result.values for n in names)

    if has("invoice_number") and touched("invoice_number", "invoice_code"):
        if len(merged["invoice_number"]) == 8 and not merged.get("invoice_code"):
            errors.append(FieldError("required", _("纸质发票须填写发票代码"), "invoice_code"))
        if len(merged["invoice_number"]) == 20 and merged.get("invoice_code"):
            errors.append(
                FieldError("invalid_invoice_code", _("全电发票没有发票代码，请留空"), "invoice_code")
            )
    window = (program.purchase_window_start, program.purchase_window_end)
    for name, label in (("invoice_date", _("开票日期")), ("license_issue_date", _("行驶证发证日期"))):
        if name in result.values and not window[0] <= merged[name] <= window[1]:
            errors.append(
                FieldError(
                    "purchase_out_of_window",
                    _("%(label)s须在 %(a)s 至 %(b)s 之间") % {"label": label, "a": window[0], "b": window[1]},
                    name,
                )
            )
    if "pos_amount" in result.values and merged["pos_amount"] <= program.min_pos_amount:
        errors.append(
            FieldError(
                "pos_below_minimum",
                _("POS 刷卡金额须大于 %(x)s 元") % {"x": money_str(program.min_pos_amount)},
                "pos_amount",
            )
        )
    if has("account_holder", "applicant_name") and touched("account_holder", "applicant_name"):
        if not v.names_match(merged["account_holder"], merged["applicant_name"]):
            errors.append(
                FieldError(
                    "account_holder_mismatch",
                    _("补贴只能发放到申请人本人的银行卡，户名须与申请人一致"),
                    "account_holder",
                )
            )
    if "dealer_credit_code" in result.values:
        dealers = {d.credit_code: d.name for d in program.dealers.all()}
        if dealers and merged["dealer_credit_code"] not in dealers:
            errors.append(
                FieldError(
                    "dealer_not_eligible", _("该销售方不在本次活动的备案经销商名单中"), "dealer_credit_code"
                )
            )
        elif dealers and not merged.get("dealer_name"):
            result.values["dealer_name"] = dealers[merged["dealer_credit_code"]]
    if has("invoice_amount", "fuel_type"):
        tiers = list(program.tiers.all())
        quote = subsidy_quote(tiers, merged["invoice_amount"], merged["fuel_type"])
        if quote.eligible:
            result.tier_position, result.subsidy_amount = quote.tier_position, quote.amount
            result.quote_basis = quote_basis(tiers, quote.tier, merged["invoice_amount"], merged["fuel_type"])
        elif quote.code == "below_minimum_amount":
            errors.append(FieldError("below_minimum_amount", quote.message, "invoice_amount"))
    if errors:
        raise ValidationFailed(errors)
    return result


def tier_table_version(tiers: list[Any]) -> str:
    """A hash of the tier table (bounds and amounts): the program version a subsidy was decided under."""
    table = [
        [money_str(t.above), money_str(t.up_to) if t.up_to is not None else None]
        + [money_str(t.fuel_amount), money_str(t.nev_amount)]
        for t in sorted(tiers, key=lambda t: t.above)
    ]
    return hashlib.sha256(json.dumps(table, separators=(",", ":")).encode()).hexdigest()


def quote_basis(tiers: list[Any], tier: Any, invoice_amount: Decimal, fuel_type: str) -> dict[str, Any]:
    """The steps of a subsidy decision (stored on the claim): amount → band → fuel type → subsidy."""
    return {
        "invoice_amount": money_str(invoice_amount),
        "tier_position": tier.position,
        "above": money_str(tier.above),
        "up_to": money_str(tier.up_to) if tier.up_to is not None else None,
        "fuel_type": fuel_type,
        "subsidy_amount": money_str(tier.amount_for(fuel_type)),
        "tiers": [
            {
                "above": money_str(t.above),
                "up_to": money_str(t.up_to) if t.up_to is not None else None,
                "fuel": money_str(t.fuel_amount),
                "nev": money_str(t.nev_amount),
            }
            for t in sorted(tiers, key=lambda t: t.above)
        ],
        "version": tier_table_version(tiers),
    }


def program_get(code: str) -> Program:
    program = Program.objects.filter(code=code).first()
    if program is None:
        raise NotFound("program_not_found", _("补贴项目不存在"))
    return program


def program_get_open(code: str, today: dt.date | None = None) -> Program:
    program = program_get(code)
    _raise_not_open(program, today)
    return program


def _raise_not_open(program: Program, today: dt.date | None = None, *, early_ok: bool = False) -> None:
    """`program_not_open` outside the claim window; `early_ok` accepts the days before it (staging, check)."""
    today = today or timezone.localdate()
    if program.closed_at is not None:
        raise Conflict("program_not_open", _("本次补贴活动已结束，不再受理申请"))
    if not (early_ok or program.claim_window_start <= today) or today > program.claim_window_end:
        raise Conflict(
            "program_not_open",
            _("不在受理期内（%(a)s 至 %(b)s）")
            % {"a": program.claim_window_start, "b": program.claim_window_end},
        )


def _claim_admission(
    program: Program, claim_input: ClaimInput, *, duplicates_by_constraint: bool = False
) -> str:
    """The status a valid claim would get now, or its refusal: a duplicate car or invoice, or no money left.

    The one decision shared by the submission (under the program lock) and the dry-run check (no lock).
    `duplicates_by_constraint`: the caller inserts the claim next, and the database's conditional unique
    constraints turn a duplicate into the same 409 (one query less per accepted claim); a refusal for money
    still names a duplicate first.
    """
    if not duplicates_by_constraint:
        _raise_duplicates(claim_input.values)
    amount = claim_input.subsidy_amount
    assert amount is not None
    if budget_can_reserve(program, amount):
        return ClaimStatus.UNDER_REVIEW
    if waitlist_has_room(program):
        return ClaimStatus.WAITLISTED
    if duplicates_by_constraint:
        _raise_duplicates(claim_input.values)
    raise Conflict("budget_exhausted", _("补贴资金已用完，本次活动不再受理新申请"))


def claim_check(program_code: str, raw: Mapping[str, Any], files: Mapping[str, Any]) -> dict[str, Any]:
    """The dry run of a submission: the same validation and refusals, before the window opens too.

    Writes nothing and reserves nothing; a staged upload it names stays unused.
    """
    program = program_get(program_code)
    _raise_not_open(program, early_ok=True)
    claim_input = claim_input_parse(program, raw, files)
    _claim_admission(program, claim_input)
    return {"ok": True, "subsidy_amount": money_str(claim_input.subsidy_amount)}


def submission_fingerprint(raw: Mapping[str, Any], files: Mapping[str, Any]) -> str:
    """What makes two submissions "the same request" for an Idempotency-Key: the fields and the files' bytes."""
    digest = hashlib.sha256()
    fields = {name: _text(raw, name) for name in ("program", *DECLARED_FIELD_NAMES)}
    digest.update(json.dumps(fields, sort_keys=True, ensure_ascii=False).encode())
    for kind in DOCUMENT_KINDS:
        upload = files.get(kind)
        if not upload:
            digest.update(f"{kind}:{_text(raw, upload_field(kind))}".encode())
        if upload:
            upload.seek(0)
            file_hash = hashlib.sha256()
            while chunk := upload.read(1 << 16):
                file_hash.update(chunk)
            upload.seek(0)
            digest.update(kind.encode() + file_hash.digest())
    return digest.hexdigest()


def claim_public_summary(claim: Claim) -> dict[str, Any]:
    return {
        "claim_number": claim.claim_number,
        "status": claim.status,
        "subsidy_amount": money_str(claim.subsidy_amount),
        "queue_position": claim_queue_position(claim),
    }


@dataclass
class SubmitResult:
    claim: Claim | None
    status_code: int
    body: dict[str, Any]
    replayed: bool = False


@contextmanager
def documents_stored(
    claim_input: ClaimInput, *, name_duplicate: Callable[[], None] | None = None
) -> Iterator[dict[str, str]]:
    """Store the validated files, yield {kind: storage_name}, and undo the storing if the body fails.

    Files are written before the transaction that references them (so it stays short), under a journal entry that
    outlives a crash. If anything fails afterwards, the files this call created are removed unless a committed row
    uses them, also when the database cannot be asked; a violated duplicate constraint becomes the contract's 409
    (`name_duplicate`, when given, raises it first: the database names only the first constraint it met).
    """
    stored: dict[str, str] = {
        kind: doc.storage_name
        for kind, doc in claim_input.documents.items()
        if isinstance(doc, StagedDocument)
    }  # stored when they were uploaded; the upload's own clean-up looks after them
    to_store = {
        kind: doc for kind, doc in claim_input.documents.items() if not isinstance(doc, StagedDocument)
    }
    created: list[str] = []
    # Staged submissions store nothing here, so they skip the journal's two fsyncs.
    entry = document_journal_open(doc.storage_name for doc in to_store.values()) if to_store else None
    try:
        for kind, doc in to_store.items():
            name, was_created = document_store(doc)
            stored[kind] = name
            if was_created:
                created.append(name)
        yield stored
    except IntegrityError as exc:
        discard_unreferenced(created, entry)
        if name_duplicate is not None:
            name_duplicate()
        raise _integrity_conflict(exc) from None
    except BaseException:
        discard_unreferenced(created, entry)
        raise
    if entry is not None:
        document_journal_close(entry)


def claim_documents_create(
    claim: Claim, claim_input: ClaimInput, stored: dict[str, str], *, new_claim: bool = False
) -> list[ClaimDocument]:
    now = timezone.now()
    kinds = list(claim_input.documents)
    # Files are content-addressed and shared: a concurrent submission that stored the same bytes and then rolled
    # back may have discarded "its" copy before our row committed. Storing again after commit is a cheap no-op
    # when the file is there, and restores it when it is not.
    docs = [d for d in claim_input.documents.values() if isinstance(d, InspectedDocument)]
    if docs:
        transaction.on_commit(lambda: [document_store(doc) for doc in docs])
    staged_uploads_take(claim, [d for d in claim_input.documents.values() if isinstance(d, StagedDocument)])
    if not new_claim:  # a new claim has no documents to replace
        ClaimDocument.objects.filter(claim=claim, kind__in=kinds, is_current=True).update(
            is_current=False, replaced_at=now
        )
    return ClaimDocument.objects.bulk_create(
        ClaimDocument(
            claim=claim,
            kind=kind,
            sha256=doc.sha256,
            stored_sha256=doc.stored_sha256,
            content_type=doc.content_type,
            size=doc.size,
            storage_name=stored[kind],
            original_name=(getattr(doc, "original_name", "") or "")[:200],
        )
        for kind, doc in claim_input.documents.items()
    )


def _raise_duplicates(values: dict[str, Any]) -> None:
    """One query for both duplicates (each side uses its index); the vehicle is named first when both match."""
    active = Claim.objects.exclude(status__in=[ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN])
    same_vin = Q(vin=values["vin"])
    same_invoice = Q(invoice_code=values.get("invoice_code", ""), invoice_number=values["invoice_number"])
    vins = set(active.filter(same_vin | same_invoice).values_list("vin", flat=True)[:2])
    if values["vin"] in vins:
        raise Conflict("duplicate_vehicle", _("该车辆（车架号）已有在办或已完成的补贴申请"))
    if vins:
        raise Conflict("duplicate_invoice", _("该发票已用于其他补贴申请"))


def _integrity_conflict(exc: IntegrityError) -> ServiceError:
    text = str(exc)
    if "claim_one_active_per_vin" in text or "claims_claim.vin" in text:
        return Conflict("duplicate_vehicle", _("该车辆（车架号）已有在办或已完成的补贴申请"))
    if "claim_one_active_per_invoice" in text or "claims_claim.invoice" in text:
        return Conflict("duplicate_invoice", _("该发票已用于其他补贴申请"))
    raise exc


def claim_submit(
    program_code: str,
    raw: Mapping[str, Any],
    files: Mapping[str, Any],
    *,
    channel: str = Channel.ONLINE,
    taken_by=None,
    idempotency_key: str | None = None,
    on_commit: Callable[[Claim], None] | None = None,
) -> SubmitResult:
    """Accept a claim (201) or refuse it, writing nothing. Retries with the same Idempotency-Key replay."""
    fingerprint = submission_fingerprint(raw, files) if idempotency_key else ""
    if idempotency_key:
        replay = _idempotent_replay(idempotency_key, fingerprint)
        if replay:
            return replay
    program = program_get_open(program_code)
    claim_input = claim_input_parse(program, raw, files)
    # Duplicates are found by the claim's INSERT under the lock: the conditional unique constraints become the
    # contract's 409 (`documents_stored`) and the whole transaction, number included, rolls back.
    name_duplicate = partial(_raise_duplicates, claim_input.values)  # the vehicle first when both match
    with documents_stored(claim_input, name_duplicate=name_duplicate) as stored, transaction.atomic():
        program = program_lock(program.pk)
        if idempotency_key:
            replay = _idempotent_replay(idempotency_key, fingerprint)
            if replay:
                transaction.set_rollback(True)
                return replay
        _raise_not_open(program)  # the day may have changed while we waited
        status = _claim_admission(program, claim_input, duplicates_by_constraint=True)
        amount = claim_input.subsidy_amount
        assert amount is not None
        seq = program.next_seq
        program.next_seq = seq + 1  # written by the reservation's UPDATE of the program row, or below
        claim = Claim(
            program=program,
            seq=seq,
            claim_number=f"{program.claim_prefix}-{seq:06d}",
            channel=channel,
            taken_by=taken_by if getattr(taken_by, "pk", None) else None,
            tier_position=claim_input.tier_position,
            subsidy_amount=amount,
            program_version=claim_input.quote_basis.get("version", ""),
            quote_basis=claim_input.quote_basis,
            submitted_at=timezone.now(),
            **{
                k: val
                for k, val in claim_input.values.items()
                if k not in ("id_number", "phone", "bank_account")
            },
        )
        claim.set_pii(
            id_number=claim_input.values["id_number"],
            phone=claim_input.values["phone"],
            bank_account=claim_input.values["bank_account"],
        )
        claim_transition(
            claim,
            status,
            program=program,
            actor=taken_by,
            actor_label=taken_by.username if getattr(taken_by, "pk", None) else "applicant",
            reason_code="submitted" if channel == Channel.ONLINE else "counter_intake",
            reason=_("申请已受理")
            if status == ClaimStatus.UNDER_REVIEW
            else _("预算暂不足，申请进入候补队列"),
            queue_notification=False,  # sent by the claim's one message (claim_after_documents_change)
        )
        if status not in RESERVED_STATUSES:  # no budget movement wrote the program row
            program.save(update_fields=["next_seq", "updated_at"])
        claim_documents_create(claim, claim_input, stored, new_claim=True)
        body = claim_public_summary(claim)
        if idempotency_key:
            IdempotencyRecord.objects.create(
                key=idempotency_key,
                scope="claim_submit",
                fingerprint=fingerprint,
                status_code=201,
                response=body,
                claim=claim,
            )
        claim_id = claim.pk
        transaction.on_commit(lambda: claim_after_documents_change(claim_id))
        if on_commit:
            transaction.on_commit(lambda: on_commit(claim))
    log.info("claim %s accepted as %s (%s)", claim.claim_number, claim.status, claim.id_number_masked)
    return SubmitResult(claim, 201, body)


def _idempotent_replay(key: str, fingerprint: str) -> SubmitResult | None:
    record = IdempotencyRecord.objects.filter(scope="claim_submit", key=key).first()
    if record is None:
        return None
    if record.fingerprint != fingerprint:
        raise Conflict("idempotency_key_reused", _("该 Idempotency-Key 已用于内容不同的另一次提交"))
    claim = record.claim
    body = claim_public_summary(claim) if claim else record.response
    return SubmitResult(claim, record.status_code, body, replayed=True)


def claim_after_documents_change(claim_id: int) -> None:
    """After commit: one message to the worker, which sends the applicant's pending message, refreshes the checks
    and queues the documents' reading."""
    try:
        intake_tasks.claim_process_documents.delay(claim_id)
    except Exception:
        # The broker may be down: the claim is stored, and the periodic sweep queues unread documents.
        log.exception("could not queue the processing of claim id %s", claim_id)
