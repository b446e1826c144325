"""Bank files: the payout file of an approved batch (CSV/XLSX) and the import of the bank's results file.

The payout file is the one place where the full account number leaves the database; every download is audited.
It is written once (at the first download of each format) with its SHA-256 stored on the batch, and every later
download serves exactly those bytes after checking them against the stored checksum.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.audit.services import audit_log
from claims.errors import Conflict, NotFound, ServiceError
from claims.intake.models import ClaimStatus
from claims.ledger import tasks as ledger_tasks
from claims.models import AuditLog, Claim, Payout, PayoutBatch, PayoutResultImport
from claims.money import ZERO, money_str, parse_amount
from claims.payouts.layouts import DEFAULT_LAYOUT, ROW_FIELDS, BankLayout, bank_layout
from claims.payouts.models import PayoutBankFile, PayoutStatus
from claims.payouts.services import (
    batch_complete_if_done,
    failure_reason,
    gateway_enabled,
    payout_purpose,
    require_finance,
)
from claims.payouts.transitions import payout_transition
from claims.programs.budget import program_lock
from claims.tabular import atomic_target, file_sha256, write_csv, write_xlsx

P = PayoutStatus
S = ClaimStatus

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
RESULT_COLUMNS = ("claim_number", "result", "bank_reference", "reason")
MAX_RESULTS_BYTES = 10 * 1024 * 1024


# --- Payout file -------------------------------------------------------------------------------------------------

PayoutRow = tuple[str, str, str, str, Decimal, str]


def _account_cell(account: str, style: str) -> str:
    """The account number as a CSV cell a spreadsheet keeps as text (digits only; see `layouts.py`)."""
    if not account.isdigit() or style == "plain":
        return account
    return f'="{account}"' if style == "formula" else "\t" + account


def bank_file_rows(rows: Iterable[PayoutRow], layout: BankLayout, fmt: str) -> Iterator[tuple[Any, ...]]:
    """The data rows in the layout's column order, then a totals line (count and sum) if the layout wants one."""
    count, total = 0, ZERO
    order = layout.indexes
    account = ROW_FIELDS.index("account_number")
    style = layout.csv_account_text if fmt == "csv" else "plain"
    for row in rows:
        count += 1
        total += row[4]
        if style != "plain":
            row = (*row[:account], _account_cell(row[account], style), *row[account + 1 :])
        yield tuple(row[i] for i in order)
    if layout.total_row:
        names = [name for name, _header in layout.columns]
        totals = {names[0]: _("合计")}
        if "amount" in names:
            totals["amount"] = total
        count_at = next((n for n in ("payee_name", *names) if n in names and n not in totals), None)
        if count_at:
            totals[count_at] = _("共 %(n)d 笔") % {"n": count}
        yield tuple(totals.get(name, "") for name in names)


def write_bank_file(path: Path, fmt: str, rows: Iterable[PayoutRow], layout: BankLayout | None = None):
    """Write one bank file in `layout` (default: the default layout), streamed: constant memory for any rows."""
    layout = layout or bank_layout(None)
    data = bank_file_rows(rows, layout, fmt)
    account = layout.column_of("account_number")
    if fmt == "csv":
        keep = () if account is None or layout.csv_account_text == "plain" else (account,)
        return write_csv(path, layout.headers, data, encoding=layout.encoding, verbatim=keep)
    if fmt == "xlsx":
        amount = layout.column_of("amount")
        return write_xlsx(
            path,
            [("payouts", layout.headers, data)],
            money_columns={"payouts": [] if amount is None else [amount]},
            text_columns={"payouts": [] if account is None else [account]},
        )
    raise ValueError(fmt)


def batch_payout_rows(batch: PayoutBatch) -> Iterator[PayoutRow]:
    qs = (
        Payout.objects.filter(batch=batch)
        .order_by("id")
        .values_list("claim__claim_number", "payee_name", "bank_account", "bank_name", "amount")
    )
    for claim_number, payee, account, bank, amount in qs.iterator(chunk_size=2000):
        yield (claim_number, payee, account, bank, amount, payout_purpose(claim_number))


@dataclass
class BankFile:
    path: Path
    sha256: str
    filename: str
    content_type: str


def _exports_dir() -> Path:
    return Path(settings.EXPORTS_DIR) / "payout-batches"


def batch_file(batch_id: int, fmt: str, user, *, layout: str | None = None, request=None) -> BankFile:
    """The batch's bank file in `fmt` and `layout`, written at its first download and served byte for byte
    afterwards; 409 before the second approval."""
    require_finance(user)
    if fmt not in FORMATS:
        raise ServiceError("invalid_format", _("格式只能是 csv 或 xlsx"))
    chosen = bank_layout(layout)
    if chosen is None:
        raise ServiceError("invalid_layout", _("银行文件格式不存在：%(l)s") % {"l": layout})
    with transaction.atomic():
        batch = PayoutBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise NotFound("batch_not_found", _("发放批次不存在"))
        if batch.status in (PayoutBatch.Status.CREATED, PayoutBatch.Status.CANCELLED):
            raise Conflict("batch_not_approved", _("批次须经另一名财务人员复核后才能导出"))
        if gateway_enabled():
            # The approved batch is paid through the bank's API; a file as well could pay it twice.
            raise Conflict(
                "batch_paid_by_gateway", _("已启用银行接口发放：本批次由接口逐笔发放，不导出银行文件")
            )
        stored = PayoutBankFile.objects.filter(batch=batch, fmt=fmt, layout=chosen.code).first()
        if stored is not None and bank_files_expired([stored.pk]):
            raise ServiceError(
                "bank_file_expired",
                _("银行文件已按保存期限删除，批次的笔数、金额和校验值仍可查看"),
                status=410,
            )
        if stored is not None:
            path = _exports_dir() / stored.stored_name
            if not path.exists() or file_sha256(path) != stored.sha256:
                raise ServiceError(
                    "export_file_damaged", _("已导出的银行文件缺失或与校验值不符，请联系管理员"), status=500
                )
        else:
            suffix = "" if chosen.code == DEFAULT_LAYOUT else f"-{chosen.code}"
            stored_name = f"batch-{batch.pk:06d}{suffix}.{fmt}"
            path = _exports_dir() / stored_name
            tmp = atomic_target(path)
            try:
                written = write_bank_file(tmp, fmt, batch_payout_rows(batch), chosen)
                tmp.replace(path)
            except UnicodeEncodeError as exc:
                tmp.unlink(missing_ok=True)
                raise Conflict(
                    "bank_file_unencodable",
                    _("有字符无法用 %(e)s 编码写入（%(c)s），请改用其他格式")
                    % {"e": chosen.encoding, "c": exc.object[exc.start : exc.end]},
                ) from None
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
            stored = PayoutBankFile.objects.create(
                batch=batch,
                fmt=fmt,
                layout=chosen.code,
                stored_name=stored_name,
                sha256=written.sha256,
                created_by=user,
            )
        audit_log(
            "payout_file_exported",
            actor=user,
            request=request,
            obj=batch,
            format=fmt,
            layout=chosen.code,
            sha256=stored.sha256,
            count=batch.count,
            total=money_str(batch.total),
        )
    return BankFile(
        path=path,
        sha256=stored.sha256,
        filename=f"payout-batch-{batch.pk:06d}{'' if chosen.code == DEFAULT_LAYOUT else '-' + chosen.code}.{fmt}",
        content_type=FORMATS[fmt]
        if chosen.encoding.startswith("utf")
        else FORMATS[fmt].replace("utf-8", chosen.encoding),
    )


# --- Retention ---------------------------------------------------------------------------------------------------

BANK_FILE_EXPIRED = "bank_file_expired"


def bank_files_expired(file_ids: Iterable[int]) -> set[int]:
    """Which of these bank files were deleted at the end of their retention period (their audit rows say so)."""
    ids = [str(i) for i in file_ids]
    if not ids:
        return set()
    return {
        int(i)
        for i in AuditLog.objects.filter(
            action=BANK_FILE_EXPIRED, object_type="PayoutBankFile", object_id__in=ids
        ).values_list("object_id", flat=True)
    }


def batches_expired_formats(batch_ids: Iterable[int]) -> dict[int, set[str]]:
    """Per batch, the formats of its default-layout bank files deleted at the end of their retention period
    (batches with none are left out). Two queries however many batches."""
    files = {
        pk: (batch_id, fmt)
        for pk, batch_id, fmt in PayoutBankFile.objects.filter(
            batch_id__in=list(batch_ids), layout=DEFAULT_LAYOUT
        ).values_list("pk", "batch_id", "fmt")
    }
    expired: dict[int, set[str]] = {}
    for pk in bank_files_expired(files):
        batch_id, fmt = files[pk]
        expired.setdefault(batch_id, set()).add(fmt)
    return expired


def batch_expired_formats(batch_id: int) -> set[str]:
    """The formats of the batch's default-layout bank files deleted at the end of their retention period."""
    return batches_expired_formats([batch_id]).get(batch_id, set())


@dataclass
class PurgeSummary:
    deleted: int = 0
    already_missing: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"deleted": self.deleted, "already_missing": self.already_missing}


def bank_files_purge_expired(*, now: dt.datetime | None = None, days: int | None = None) -> PurgeSummary:
    """Delete the exported bank files older than `BANK_FILE_RETENTION_DAYS`, one audit row per file.

    The file holds every full account number of its batch; the batch, its `PayoutBankFile` row (checksum) and
    the totals stay. A file already recorded as deleted is skipped, so running it again changes nothing; one
    already gone from the disk is recorded as well (with `missing`), so the admin says what happened to it.
    """
    days = settings.BANK_FILE_RETENTION_DAYS if days is None else days
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    summary = PurgeSummary()
    due = list(PayoutBankFile.objects.filter(created_at__lt=cutoff).order_by("id"))
    done = bank_files_expired(f.pk for f in due)
    for stored in due:
        if stored.pk in done:
            continue
        with transaction.atomic():
            # The batch row is the lock a download takes too: no file is served while it is being deleted.
            PayoutBatch.objects.select_for_update().filter(pk=stored.batch_id).first()
            path = _exports_dir() / stored.stored_name
            missing = not path.exists()
            audit_log(
                BANK_FILE_EXPIRED,
                actor_label="bank_file_retention",
                obj=stored,
                batch=stored.batch_id,
                format=stored.fmt,
                layout=stored.layout,
                sha256=stored.sha256,
                created_at=stored.created_at.isoformat(),
                retention_days=days,
                missing=missing,
            )
            path.unlink(missing_ok=True)
        if missing:
            summary.already_missing += 1
        else:
            summary.deleted += 1
    return summary


# --- Results import ----------------------------------------------------------------------------------------------


@dataclass
class LineProblem:
    line: int
    claim_number: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "claim_number": self.claim_number,
            "code": self.code,
            "message": self.message,
        }


class ResultsRefused(ServiceError):
    """The whole results file is refused, nothing applied; `lines` says why, line by line."""

    def __init__(self, problems: list[LineProblem], status: int = 400):
        super().__init__(
            "results_refused", _("银行回盘文件有误，未做任何处理：请按逐行说明修改后重新上传"), status=status
        )
        self.problems = problems

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["lines"] = [p.as_dict() for p in self.problems]
        return body


@dataclass
class ResultLine:
    line: int
    claim_number: str
    result: str
    bank_reference: str
    reason: str
    amount: Decimal | None = None
    amount_raw: str | None = None


@dataclass
class ImportSummary:
    batch_id: int
    lines: int = 0
    paid: int = 0
    failed: int = 0
    unchanged: int = 0
    batch_status: str = ""
    claims: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch": self.batch_id,
            "lines": self.lines,
            "paid": self.paid,
            "failed": self.failed,
            "unchanged": self.unchanged,
            "batch_status": self.batch_status,
        }


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):  # Chinese bank systems often write GBK
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ResultsRefused([LineProblem(0, "", "invalid_encoding", _("文件编码无法识别（应为 UTF-8 或 GBK）"))])


def results_parse(data: bytes) -> list[ResultLine]:
    """Parse the bank's results CSV; every format problem is reported at once."""
    if len(data) > MAX_RESULTS_BYTES:
        raise ResultsRefused([LineProblem(0, "", "file_too_large", _("文件过大"))])
    reader = csv.reader(io.StringIO(_decode(data)))
    header = next(reader, None)
    names = [h.strip().lower() for h in header] if header else []
    missing = [c for c in RESULT_COLUMNS if c not in names]
    if missing:
        raise ResultsRefused(
            [LineProblem(1, "", "missing_columns", _("缺少列：%(c)s") % {"c": ", ".join(missing)})]
        )
    idx = {name: names.index(name) for name in (*RESULT_COLUMNS, "amount") if name in names}
    lines: list[ResultLine] = []
    problems: list[LineProblem] = []
    for number, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(name: str, row=row) -> str:
            i = idx.get(name)
            return row[i].strip() if i is not None and i < len(row) else ""

        claim_number = cell("claim_number").upper()
        if claim_number in ("合计", "TOTAL"):
            continue  # a totals line copied from our own file
        line = ResultLine(
            number, claim_number, cell("result").lower(), cell("bank_reference")[:64], cell("reason")[:200]
        )
        if "amount" in idx:
            line.amount_raw = cell("amount")
            line.amount = parse_amount(line.amount_raw)
        if not claim_number:
            problems.append(LineProblem(number, "", "missing_claim_number", _("缺少申请编号")))
        if line.result not in ("paid", "failed"):
            problems.append(
                LineProblem(number, claim_number, "invalid_result", _("result 只能是 paid 或 failed"))
            )
        if line.result == "paid" and not line.bank_reference:
            problems.append(
                LineProblem(number, claim_number, "missing_bank_reference", _("发放成功的记录须有银行流水号"))
            )
        if line.amount_raw is not None and line.amount is None:
            problems.append(LineProblem(number, claim_number, "invalid_amount", _("金额格式不正确")))
        lines.append(line)
    if problems:
        raise ResultsRefused(problems)
    if not lines:
        raise ResultsRefused([LineProblem(0, "", "empty_file", _("文件中没有结果记录"))])
    return lines


@dataclass
class ResultsPreview:
    """What importing a results file would do, computed without changing anything."""

    batch_id: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[LineProblem] = field(default_factory=list)
    paid: int = 0
    paid_total: Decimal = ZERO
    failed: int = 0
    failed_total: Decimal = ZERO
    unchanged: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def results_preview(batch_id: int, data: bytes, user) -> ResultsPreview:
    """The lines of a results file matched to the batch's payouts, with counts and totals, and the refused lines
    with their reasons. Nothing is written: `results_import` applies the same file (all or nothing)."""
    require_finance(user)
    batch = PayoutBatch.objects.filter(pk=batch_id).first()
    if batch is None:
        raise NotFound("batch_not_found", _("发放批次不存在"))
    if batch.status in (PayoutBatch.Status.CREATED, PayoutBatch.Status.CANCELLED):
        raise Conflict("batch_not_approved", _("批次尚未复核，不能导入结果"))
    preview = ResultsPreview(batch_id=batch_id)
    try:
        lines = results_parse(data)
    except ResultsRefused as exc:
        preview.problems = exc.problems
        return preview
    payouts = {p.claim_id: p for p in Payout.objects.filter(batch_id=batch_id).select_related("claim")}
    claims = {p.claim.claim_number: p.claim for p in payouts.values()}
    plan, preview.problems = _results_plan(lines, claims, payouts)
    for line, payout, _claim in plan:
        unchanged = _unchanged(line, payout)
        if unchanged:
            preview.unchanged += 1
        elif line.result == "paid":
            preview.paid += 1
            preview.paid_total += payout.amount
        else:
            preview.failed += 1
            preview.failed_total += payout.amount
        preview.rows.append(
            {
                "line": line.line,
                "claim_number": line.claim_number,
                "payee_name": payout.payee_name,
                "bank_account": payout.bank_account_masked,
                "amount": payout.amount,
                "result": line.result,
                "bank_reference": line.bank_reference,
                "reason": line.reason,
                "unchanged": unchanged,
            }
        )
    return preview


def results_import(batch_id: int, data: bytes, user, *, file_name: str = "", request=None) -> ImportSummary:
    """Apply the bank's results to the batch: all lines or none. Importing the same file again changes nothing."""
    require_finance(user)
    lines = results_parse(data)
    summary = ImportSummary(batch_id=batch_id, lines=len(lines))
    with transaction.atomic():
        # Lock order: programs, claims, payouts, then the batch row.
        program_ids = sorted(
            set(Payout.objects.filter(batch_id=batch_id).values_list("program_id", flat=True))
        )
        programs = {pid: program_lock(pid) for pid in program_ids}
        claim_ids = list(
            Payout.objects.filter(batch_id=batch_id).order_by("claim_id").values_list("claim_id", flat=True)
        )
        claims = {
            c.claim_number: c
            for c in Claim.objects.select_for_update().filter(pk__in=claim_ids).order_by("id")
        }
        payouts = {
            p.claim_id: p for p in Payout.objects.select_for_update().filter(batch_id=batch_id).order_by("id")
        }
        batch = PayoutBatch.objects.select_for_update().filter(pk=batch_id).first()
        if batch is None:
            raise NotFound("batch_not_found", _("发放批次不存在"))
        if batch.status == PayoutBatch.Status.CREATED:
            raise Conflict("batch_not_approved", _("批次尚未复核，不能导入结果"))

        plan, problems = _results_plan(lines, claims, payouts)
        if problems:
            raise ResultsRefused(problems)

        for line, payout, claim in plan:
            if _unchanged(line, payout):
                summary.unchanged += 1
                continue
            if line.result == "paid":
                payout_transition(
                    payout,
                    P.PAID,
                    claim=claim,
                    program=programs[claim.program_id],
                    reference=line.bank_reference,
                    actor=user,
                    source="bank_file",
                )
                summary.paid += 1
            else:
                payout_transition(
                    payout,
                    P.FAILED,
                    claim=claim,
                    reason=failure_reason(line.reason),
                    actor=user,
                    source="bank_file",
                )
                summary.failed += 1
            summary.claims.append(claim.claim_number)
        if summary.paid:
            # Paid claims go into the public ledger's next publication, once this import has committed.
            for program in programs.values():
                transaction.on_commit(lambda code=program.code: ledger_tasks.ledger_publish_task.delay(code))
        if summary.paid or summary.failed:
            sha = hashlib.sha256(data).hexdigest()
            stored = _store_results_file(batch.pk, sha, data)
            PayoutResultImport.objects.create(
                batch=batch,
                sha256=sha,
                file_name=(file_name or "")[:200],
                stored_name=stored,
                uploaded_by=user,
                lines=summary.lines,
                paid=summary.paid,
                failed=summary.failed,
                unchanged=summary.unchanged,
            )
            audit_log(
                "payout_results_imported",
                actor=user,
                request=request,
                obj=batch,
                sha256=sha,
                lines=summary.lines,
                paid=summary.paid,
                failed=summary.failed,
                unchanged=summary.unchanged,
            )
            batch_complete_if_done(batch.pk)
        batch.refresh_from_db(fields=["status"])
        summary.batch_status = batch.status
    return summary


def _results_plan(
    lines: list[ResultLine], claims: dict[str, Claim], payouts: dict[int, Payout]
) -> tuple[list[tuple[ResultLine, Payout, Claim]], list[LineProblem]]:
    """Match each line to its payout in the batch: what would be applied, and every line that cannot be."""
    plan: list[tuple[ResultLine, Payout, Claim]] = []
    problems: list[LineProblem] = []
    seen: set[str] = set()
    for line in lines:
        claim = claims.get(line.claim_number)
        payout = payouts.get(claim.pk) if claim else None
        if claim is None or payout is None:
            problems.append(
                LineProblem(line.line, line.claim_number, "not_in_batch", _("该申请不在本批次中"))
            )
            continue
        if line.claim_number in seen:
            problems.append(
                LineProblem(line.line, line.claim_number, "duplicate_line", _("同一申请在文件中出现多次"))
            )
            continue
        seen.add(line.claim_number)
        if line.amount is not None and line.amount != payout.amount:
            problems.append(
                LineProblem(
                    line.line,
                    line.claim_number,
                    "amount_mismatch",
                    _("金额 %(a)s 与发放金额 %(b)s 不符")
                    % {"a": money_str(line.amount), "b": money_str(payout.amount)},
                )
            )
            continue
        problem = _line_problem(line, payout, claim)
        if problem:
            problems.append(LineProblem(line.line, line.claim_number, *problem))
            continue
        plan.append((line, payout, claim))
    return plan, problems


def _unchanged(line: ResultLine, payout: Payout) -> bool:
    return (line.result == "paid" and payout.status == P.PAID) or (
        line.result == "failed" and payout.status == P.FAILED
    )


def _line_problem(line: ResultLine, payout: Payout, claim: Claim) -> tuple[str, str] | None:
    """Why this line cannot be applied to this payout, or None. Lines that repeat the current state are fine."""
    if payout.status == P.PAID:
        if line.result == "failed":
            return "paid_reported_failed", _("该申请已确认发放成功，不能改为失败")
        if line.bank_reference != payout.bank_reference:
            return "bank_reference_mismatch", _("已记录的银行流水号为 %(r)s，与文件不符") % {
                "r": payout.bank_reference
            }
        return None
    if payout.status == P.FAILED:
        if line.result == "paid" and claim.status != S.PAYOUT_FAILED:
            # The claim has moved on (new bank details, a new payout): a late "paid" would pay it twice.
            return "claim_moved_on", _("该申请已重新安排发放，不能再确认本批次的发放")
        return None
    if payout.status in (P.BATCHED, P.SUBMITTED):
        if (
            claim.status != S.APPROVED
        ):  # pragma: no cover - an open payout always belongs to an approved claim
            return "invalid_claim_status", _("申请状态不允许记录发放结果")
        return None
    return "payout_cancelled", _("该发放指令已作废")


def results_stage(batch_id: int, data: bytes, user) -> str:
    """Keep an uploaded results file between its preview and the confirmation; returns its SHA-256."""
    require_finance(user)
    if len(data) > MAX_RESULTS_BYTES:
        raise ResultsRefused([LineProblem(0, "", "file_too_large", _("文件过大"))])
    sha = hashlib.sha256(data).hexdigest()
    path = _staged_results_path(batch_id, sha)
    if not path.exists():
        tmp = atomic_target(path)
        tmp.write_bytes(data)
        tmp.replace(path)
    return sha


def results_staged(batch_id: int, sha: str) -> bytes:
    """The bytes of a staged results file (by its SHA-256), checked against it."""
    if len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha):
        raise ServiceError("invalid_upload", _("回盘文件标识无效，请重新上传"))
    path = _staged_results_path(batch_id, sha)
    data = path.read_bytes() if path.exists() else b""
    if hashlib.sha256(data).hexdigest() != sha:
        raise ServiceError("upload_expired", _("待确认的回盘文件已失效，请重新上传"))
    return data


def _staged_results_path(batch_id: int, sha: str) -> Path:
    return (
        Path(settings.EXPORTS_DIR)
        / "payout-batches"
        / "results"
        / "staged"
        / f"batch-{batch_id:06d}-{sha}.csv"
    )


def _store_results_file(batch_id: int, sha: str, data: bytes) -> str:
    name = f"results/batch-{batch_id:06d}-{sha[:16]}.csv"
    path = Path(settings.EXPORTS_DIR) / "payout-batches" / name
    if not path.exists():
        tmp = atomic_target(path)
        tmp.write_bytes(data)
        tmp.replace(path)
    return name
