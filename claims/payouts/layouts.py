"""Bank file layouts as data: which columns, under which header names, in which encoding, with or without a totals
line, and how a CSV keeps an account number a spreadsheet would otherwise turn into `6.22E+18`.

The layouts ship in `bank_layouts.json` beside this module; `PAYOUT_BANK_LAYOUTS_FILE` (a JSON file of the same
shape) replaces them for a deployment whose bank wants something else. `default` must always exist.

`csv_account_text` (CSV only; XLSX account cells are always stored as text):

* `formula`: `="6217000012345678901"`. Excel and WPS show the digits as text and keep all of them when the file
  is saved again. Meant for files people open in a spreadsheet before the bank takes them.
* `tab`: a leading tab before the digits, which spreadsheets also read as text; some bank import tools strip it.
* `plain`: the digits as they are, for a bank system that reads the CSV itself and is never opened in a
  spreadsheet.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

# The values every bank file row carries, in this order (see `bank_files.batch_payout_rows`).
ROW_FIELDS = ("claim_number", "payee_name", "account_number", "bank_name", "amount", "purpose")
ENCODINGS = ("utf-8-sig", "utf-8", "gbk", "gb18030")
ACCOUNT_TEXT = ("formula", "tab", "plain")
DEFAULT_LAYOUT = "default"
SHIPPED = Path(__file__).with_name("bank_layouts.json")


@dataclass(frozen=True)
class BankLayout:
    code: str
    label: str
    encoding: str
    total_row: bool
    csv_account_text: str
    columns: tuple[tuple[str, str], ...]  # (row field, header name)

    @property
    def headers(self) -> tuple[str, ...]:
        return tuple(header for _field, header in self.columns)

    @property
    def indexes(self) -> tuple[int, ...]:
        """Where each column's value sits in a bank file row."""
        return tuple(ROW_FIELDS.index(name) for name, _header in self.columns)

    def column_of(self, name: str) -> int | None:
        for i, (field, _header) in enumerate(self.columns):
            if field == name:
                return i
        return None


def _parse(code: str, raw: dict) -> BankLayout:
    try:
        columns = tuple((str(field), str(header)) for field, header in raw["columns"])
        layout = BankLayout(
            code=code,
            label=str(raw.get("label") or code),
            encoding=str(raw.get("encoding", "utf-8-sig")).lower(),
            total_row=bool(raw.get("total_row", False)),
            csv_account_text=str(raw.get("csv_account_text", "formula")),
            columns=columns,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"bank layout {code!r}: {exc}") from exc
    unknown = [f for f, _h in columns if f not in ROW_FIELDS]
    if unknown or not columns or len({f for f, _h in columns}) != len(columns):
        raise ImproperlyConfigured(f"bank layout {code!r}: columns must be distinct names from {ROW_FIELDS}")
    if layout.encoding not in ENCODINGS:
        raise ImproperlyConfigured(f"bank layout {code!r}: encoding must be one of {ENCODINGS}")
    if layout.csv_account_text not in ACCOUNT_TEXT:
        raise ImproperlyConfigured(f"bank layout {code!r}: csv_account_text must be one of {ACCOUNT_TEXT}")
    return layout


@cache
def _load(path: str) -> dict[str, BankLayout]:
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    layouts = {code: _parse(code, raw) for code, raw in data.items()}
    if DEFAULT_LAYOUT not in layouts:
        raise ImproperlyConfigured(f"{path}: a {DEFAULT_LAYOUT!r} bank layout is required")
    return layouts


def bank_layouts() -> dict[str, BankLayout]:
    return _load(str(getattr(settings, "PAYOUT_BANK_LAYOUTS_FILE", "") or SHIPPED))


def bank_layout(code: str | None) -> BankLayout | None:
    return bank_layouts().get(code or DEFAULT_LAYOUT)
