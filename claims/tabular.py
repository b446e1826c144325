"""Streaming CSV and XLSX writers shared by the bank files and the reports.

Both write rows one at a time (constant memory), neutralise text cells that a spreadsheet would read as a formula,
and hash what they write so the caller can store the file's checksum.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from claims.money import CENT, quantize

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"
MONEY_FORMAT = "#,##0.00"


def neutralise(value: str) -> str:
    """A text cell starting like a formula gets a leading apostrophe, so Excel and WPS show it as text."""
    if value and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if type(value) is Decimal:
        return str(value.quantize(CENT, rounding=ROUND_HALF_UP))
    if isinstance(value, int):
        return str(value)
    return neutralise(str(value))


def csv_row(row: Sequence[Any]) -> list[Any]:
    """One row's cells as text: the common case (a harmless string) costs one type check and one startswith."""
    return [v if type(v) is str and not v.startswith(FORMULA_PREFIXES) else _csv_cell(v) for v in row]


class _HashingWriter(io.RawIOBase):
    """A binary file wrapper that hashes what passes through it."""

    def __init__(self, raw):
        self.raw = raw
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.sha.update(data)
        self.size += len(data)
        return self.raw.write(data)


@dataclass
class WrittenFile:
    path: Path
    sha256: str
    size: int
    rows: int


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    encoding: str = "utf-8-sig",
    verbatim: Sequence[int] = (),
) -> WrittenFile:
    """CRLF line ends, every text cell neutralised except the `verbatim` columns (cells the caller built safely,
    e.g. `="0123"` around digits). `utf-8-sig` writes a BOM so Excel opens Chinese text correctly; other
    encodings (`utf-8`, `gbk`, ...) write none. A character the encoding cannot hold raises UnicodeEncodeError."""
    n = 0
    keep = frozenset(verbatim)
    with open(path, "wb") as raw:
        hashing = _HashingWriter(raw)
        buffered = io.BufferedWriter(hashing, buffer_size=1 << 16)
        bom = encoding == "utf-8-sig"
        text = io.TextIOWrapper(buffered, encoding="utf-8" if bom else encoding, newline="")
        if bom:
            text.write(BOM)
        writer = csv.writer(text, lineterminator="\r\n")
        writer.writerow(header)
        format_row = csv_row
        for row in rows:
            if keep:
                cells = format_row(row)
                for i in keep:
                    cells[i] = row[i]
                writer.writerow(cells)
            else:
                writer.writerow(format_row(row))
            n += 1
        text.flush()
        buffered.flush()
        text.detach()
    return WrittenFile(path, hashing.sha.hexdigest(), hashing.size, n)


def write_xlsx(
    path: Path,
    sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence[Any]]]],
    *,
    money_columns: dict[str, Sequence[int]] | None = None,
    text_columns: dict[str, Sequence[int]] | None = None,
) -> WrittenFile:
    """An openpyxl write-only workbook (rows are streamed to disk). Text cells neutralised; money as numbers;
    `text_columns` formatted as text (`@`), so a spreadsheet keeps every digit of an account number."""
    wb = Workbook(write_only=True)
    n = 0
    for title, header, rows in sheets:
        ws = wb.create_sheet(title=title[:31])
        bold = []
        for h in header:
            c = WriteOnlyCell(ws, value=h)
            c.font = Font(bold=True)
            bold.append(c)
        ws.append(bold)
        money_idx = set((money_columns or {}).get(title, ()))
        text_idx = set((text_columns or {}).get(title, ()))
        text_style = None
        if text_idx:
            template = WriteOnlyCell(ws, value="")
            template.number_format = "@"
            text_style = template._style  # one style for every text cell (setting it per cell is slow)
        for row in rows:
            out = []
            for i, v in enumerate(row):
                if i in text_idx and v is not None:
                    c = WriteOnlyCell(ws, value=neutralise(str(v)))
                    c._style = copy(text_style)
                    out.append(c)
                elif isinstance(v, str):
                    out.append(neutralise(v))
                elif isinstance(v, Decimal):
                    if i in money_idx:
                        c = WriteOnlyCell(ws, value=quantize(v))
                        c.number_format = MONEY_FORMAT
                        out.append(c)
                    else:
                        out.append(quantize(v))
                else:
                    out.append(v)
            ws.append(out)
            n += 1
    wb.save(path)
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return WrittenFile(path, digest.hexdigest(), size, n)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def atomic_target(final: Path) -> Path:
    """A temporary path in the same folder as `final`, for write-then-rename."""
    final.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=final.parent, prefix=".tmp-", suffix=final.suffix)
    os.close(fd)
    return Path(tmp)
