"""Bank file layouts: columns and header names as data, GBK, totals line only where asked, digits kept."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from openpyxl import load_workbook

from claims.errors import ServiceError
from claims.models import Payout
from claims.payouts.bank_files import batch_file
from claims.payouts.layouts import _load, bank_layouts
from claims.payouts.services import batch_approve, batch_create
from tests.claims.payouts.payout_helpers import approved_claims


@pytest.fixture
def approved(program, finance, finance2):
    claims = approved_claims(program, 2)
    batch = batch_create(finance)
    batch_approve(batch.pk, finance2)
    return batch, claims


def test_gbk_layout_with_chinese_headers_and_a_totals_line(approved, finance):
    batch, claims = approved
    f = batch_file(batch.pk, "csv", finance, layout="cn_gbk")
    raw = f.path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and "gbk" in f.content_type
    rows = list(csv.reader(io.StringIO(raw.decode("gbk"))))
    assert rows[0] == ["收款账号", "收款户名", "金额", "收款行", "用途", "业务编号"]
    assert rows[1][0] == "\t" + claims[0].bank_account and rows[1][5] == claims[0].claim_number
    assert rows[-1][0] == "合计" and rows[-1][2] == "12000.00" and "2" in rows[-1][1]
    assert len(rows) == 4
    # Written once: a second download serves the same bytes; another layout is its own file.
    assert batch_file(batch.pk, "csv", finance, layout="cn_gbk").path.read_bytes() == raw
    assert batch_file(batch.pk, "csv", finance).path != f.path


def test_xlsx_account_cells_are_text(approved, finance):
    batch, claims = approved
    f = batch_file(batch.pk, "xlsx", finance, layout="cn_gbk")
    ws = load_workbook(f.path).active
    cell = ws.cell(row=2, column=1)
    assert cell.value == claims[0].bank_account and cell.number_format == "@" and cell.data_type == "s"
    assert ws.cell(row=2, column=3).value == Decimal("6000") or ws.cell(row=2, column=3).value == 6000
    assert ws.cell(row=ws.max_row, column=1).value == "合计"


def test_plain_layout_keeps_the_digits_as_they_are(approved, finance):
    batch, claims = approved
    raw = batch_file(batch.pk, "csv", finance, layout="plain_import").path.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    assert rows[1][2] == claims[0].bank_account and len(rows) == 3


def test_formula_injection_still_neutralised_in_every_layout(approved, finance):
    batch, claims = approved
    Payout.objects.filter(claim=claims[0]).update(payee_name="=cmd|' /C calc'!A0")
    for code in bank_layouts():
        layout = bank_layouts()[code]
        raw = batch_file(batch.pk, "csv", finance, layout=code).path.read_bytes()
        encoding = "utf-8-sig" if layout.encoding.startswith("utf") else layout.encoding
        rows = list(csv.reader(io.StringIO(raw.decode(encoding))))
        payee = rows[1][layout.column_of("payee_name")]
        assert payee.startswith("'="), code


def test_unknown_layout_and_unencodable_names_are_clear_errors(approved, finance):
    batch, claims = approved
    with pytest.raises(ServiceError) as exc:
        batch_file(batch.pk, "csv", finance, layout="nope")
    assert exc.value.code == "invalid_layout"
    Payout.objects.filter(claim=claims[0]).update(payee_name="王\U0002a6a5")  # outside GBK
    with pytest.raises(ServiceError) as exc:
        batch_file(batch.pk, "csv", finance, layout="cn_gbk")
    assert exc.value.code == "bank_file_unencodable"


def test_a_deployment_file_replaces_the_layouts(tmp_path, settings):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"other": {"columns": [["amount", "金额"]]}}), encoding="utf-8")
    with pytest.raises(ImproperlyConfigured):
        _load(str(bad))
    good = tmp_path / "good.json"
    good.write_text(
        json.dumps({"default": {"encoding": "gb18030", "columns": [["account_number", "账号"]]}}),
        encoding="utf-8",
    )
    settings.PAYOUT_BANK_LAYOUTS_FILE = str(good)
    assert list(bank_layouts()) == ["default"] and bank_layouts()["default"].headers == ("账号",)
