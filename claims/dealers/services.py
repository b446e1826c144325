"""Importing dealers' sales records (all or nothing per file, idempotent) and dealer accounts."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from openpyxl import load_workbook

from claims.accounts.roles import DEALER, REVIEWER, has_role
from claims.audit.services import audit_log
from claims.dealers import tasks as dealer_tasks
from claims.dealers.models import DealerAccount, DealerSale, DealerSalesImport
from claims.errors import FieldError, Forbidden, ServiceError
from claims.intake import validators as v
from claims.money import parse_money

COLUMNS = ("dealer_credit_code", "invoice_number", "invoice_code", "invoice_date", "vin", "invoice_amount")
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ROWS = 50_000
MAX_AMOUNT_DIGITS = 10


@dataclass
class SalesImportResult:
    imported: int = 0
    duplicates: int = 0
    refused: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"imported": self.imported, "duplicates": self.duplicates, "refused": self.refused}


class SalesFileRefused(ServiceError):
    """Some rows are bad: nothing was imported; every bad row is named."""

    def __init__(self, refused: list[dict]):
        super().__init__("invalid_rows", _("销售记录文件中有错误的行，整个文件未导入"), status=400)
        self.refused = refused

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message, "imported": 0, "refused": self.refused}


def dealer_credit_code(user) -> str | None:
    """The credit code a dealer account speaks for (None for other accounts)."""
    account = DealerAccount.objects.filter(user=user).only("credit_code").first()
    return account.credit_code if account else None


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\x00", "").strip()


def _read_rows(data: bytes) -> list[list[str]]:
    if data[:4] == b"PK\x03\x04":
        try:
            sheet = load_workbook(io.BytesIO(data), read_only=True, data_only=True).active
            rows = [[_cell_text(c) for c in row] for row in sheet.iter_rows(values_only=True)]
        except (zipfile.BadZipFile, KeyError, ValueError, OSError, TypeError):
            raise ServiceError("invalid_file", _("无法读取该 XLSX 文件")) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            try:
                text = data.decode("gb18030")
            except UnicodeDecodeError:
                raise ServiceError(
                    "invalid_file", _("文件须为 UTF-8 或 GB18030 编码的 CSV，或 XLSX")
                ) from None
        if "\x00" in text:
            raise ServiceError("invalid_file", _("文件不是 CSV 或 XLSX"))
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    return [r for r in rows if any(r)]


def _parse_row(cells: dict[str, str], own_code: str | None) -> tuple[dict | None, str | None]:
    try:
        code = v.validate_credit_code(cells["dealer_credit_code"])
    except FieldError as exc:
        return None, exc.code
    if own_code is not None and code != own_code:
        return None, "other_dealer"
    number, invoice_code = cells["invoice_number"].upper(), cells["invoice_code"].upper()
    if not number or len(number) > 20 or not number.isalnum():
        return None, "invalid_invoice_number"
    if len(invoice_code) > 12 or (invoice_code and not invoice_code.isalnum()):
        return None, "invalid_invoice_code"
    try:
        date = dt.date.fromisoformat(cells["invoice_date"][:10])
    except ValueError:
        return None, "invalid_date"
    try:
        vin = v.validate_vin(cells["vin"])
    except FieldError as exc:
        return None, exc.code
    amount = parse_money(cells["invoice_amount"])
    if amount is None or amount <= 0 or amount >= 10**MAX_AMOUNT_DIGITS:
        return None, "invalid_amount"
    return {
        "credit_code": code,
        "invoice_number": number,
        "invoice_code": invoice_code,
        "invoice_date": date,
        "vin": vin,
        "invoice_amount": amount,
    }, None


def _same(sale: DealerSale, row: dict) -> bool:
    return (sale.invoice_date, sale.vin, sale.invoice_amount) == (
        row["invoice_date"],
        row["vin"],
        row["invoice_amount"],
    )


def dealer_sales_import(user, data: bytes, *, file_name: str = "", request=None) -> SalesImportResult:
    """Import a sales file: every row or none. A row already recorded identically counts as a duplicate; one that
    contradicts a record already held is refused (`conflicts_with_record`): records are corrected by a person."""
    if has_role(user, REVIEWER):
        own_code = None
    elif has_role(user, DEALER):
        own_code = dealer_credit_code(user)
        if own_code is None:
            raise Forbidden("dealer_not_bound", _("该经销商账号未绑定统一社会信用代码"))
    else:
        raise Forbidden("forbidden", _("只有审核员或经销商账号可以导入销售记录"))
    if not data:
        raise ServiceError("invalid_file", _("请上传销售记录文件"))
    if len(data) > MAX_FILE_BYTES:
        raise ServiceError("invalid_file", _("文件过大（最大 10 MB）"))
    rows = _read_rows(data)
    if not rows:
        raise ServiceError("invalid_file", _("文件为空"))
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ServiceError("invalid_columns", _("缺少列：%(c)s") % {"c": ", ".join(missing)})
    if len(rows) - 1 > MAX_ROWS:
        raise ServiceError("invalid_file", _("一个文件最多 %(n)s 行") % {"n": MAX_ROWS})
    index = {c: header.index(c) for c in COLUMNS}
    parsed: list[tuple[int, dict]] = []
    refused: list[dict] = []
    for number, row in enumerate(rows[1:], start=2):
        cells = {c: (row[i] if i < len(row) else "") for c, i in index.items()}
        values, problem = _parse_row(cells, own_code)
        if problem:
            refused.append({"row": number, "code": problem})
        else:
            parsed.append((number, values))
    result = SalesImportResult()
    with transaction.atomic():
        keys = {(r["credit_code"], r["invoice_code"], r["invoice_number"]) for _n, r in parsed}
        existing: dict[tuple, DealerSale] = {}
        for code in {k[0] for k in keys}:
            numbers = [k[2] for k in keys if k[0] == code]
            for sale in DealerSale.objects.select_for_update().filter(
                credit_code=code, invoice_number__in=numbers
            ):
                existing[(sale.credit_code, sale.invoice_code, sale.invoice_number)] = sale
        new: dict[tuple, dict] = {}
        for number, row in parsed:
            key = (row["credit_code"], row["invoice_code"], row["invoice_number"])
            held = existing.get(key)
            if held is not None:
                if _same(held, row):
                    result.duplicates += 1
                else:
                    refused.append({"row": number, "code": "conflicts_with_record"})
            elif key in new:
                if new[key] == row:
                    result.duplicates += 1
                else:
                    refused.append({"row": number, "code": "conflicts_with_record"})
            else:
                new[key] = row
        if refused:
            raise SalesFileRefused(sorted(refused, key=lambda r: r["row"]))
        source = DealerSalesImport.objects.create(
            sha256=hashlib.sha256(data).hexdigest(),
            file_name=(file_name or "")[:200],
            uploaded_by=user,
            rows=len(parsed),
            imported=len(new),
            duplicates=result.duplicates,
        )
        try:
            with transaction.atomic():
                DealerSale.objects.bulk_create(DealerSale(source=source, **row) for row in new.values())
        except IntegrityError:  # the same records were imported concurrently
            raise ServiceError(
                "concurrent_import", _("同一批销售记录正在被另一次上传导入，请稍后重试"), status=409
            ) from None
        result.imported = len(new)
        audit_log(
            "dealer_sales_imported",
            actor=user,
            request=request,
            obj=source,
            rows=len(parsed),
            imported=result.imported,
            duplicates=result.duplicates,
        )
        if result.imported:
            transaction.on_commit(lambda: dealer_tasks.dealer_sales_recheck_task.delay(source.pk))
    return result
