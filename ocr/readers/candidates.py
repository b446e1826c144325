"""Typed value candidates found anywhere on a page, without knowing its layout.

Every value a claim needs has a type that can be recognised on its own: VINs, resident ID numbers and unified
social credit codes carry check characters; invoice numbers and codes are runs of 8, 12 or 20 digits; dates,
¥ amounts, 大写 amounts and tax rates have their printed forms.  ``page_candidates`` collects the valid
candidates of every type from every OCR line; the readers then use the labels only to choose between them.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..numerals import parse_amount_words
from ..validators import is_valid_credit_code, is_valid_id_number, is_valid_vin
from .base import Item, compact

__all__ = [
    "AMOUNT",
    "CODE_DIGITS",
    "CREDIT",
    "DATE",
    "ID",
    "RATE",
    "VIN",
    "WORDS",
    "Candidate",
    "page_candidates",
    "plausible_resident_id",
]

VIN = "vin"
ID = "id_number"
CREDIT = "credit_code"
CODE_DIGITS = "digits"
DATE = "date"
AMOUNT = "amount"
WORDS = "amount_words"
RATE = "tax_rate"

TAX_RATES = (13, 9, 6, 3, 1, 16, 17, 10, 11, 5)
# Province-level codes that begin a resident ID number (GB/T 2260), with Taiwan, Hong Kong and Macao.
_PROVINCES = {
    11,
    12,
    13,
    14,
    15,
    21,
    22,
    23,
    31,
    32,
    33,
    34,
    35,
    36,
    37,
    41,
    42,
    43,
    44,
    45,
    46,
    50,
    51,
    52,
    53,
    54,
    61,
    62,
    63,
    64,
    65,
    71,
    81,
    82,
    83,
}


@dataclass(frozen=True)
class Candidate:
    """One valid value of a type, with the OCR line it was read from and where in that line it starts."""

    type: str
    value: Any
    item: Item
    start: int
    end: int
    text: str
    signed: bool = False  # amounts: printed with a currency sign

    @property
    def confidence(self) -> float:
        return self.item.confidence


def plausible_resident_id(value: str) -> bool:
    """A resident ID number with a valid check character, a real birth date and a province code."""
    if not is_valid_id_number(value):
        return False
    if int(value[:2]) not in _PROVINCES:
        return False
    born = int(value[6:10])
    return 1900 <= born <= dt.date.today().year


# Misreads fixed only inside a code-shaped run (letters VINs never contain).
_VIN_FIX = str.maketrans({"O": "0", "I": "1", "Q": "0"})
_ALNUM_RUN = re.compile(r"[0-9A-Z]+")
_DIGIT_RUN = re.compile(r"(?<![0-9A-Z.])\d+(?![0-9.])")
_DATE_PATTERNS = (
    re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})(?P<sep>[-./])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<y>20\d{2})(?P<m>[01]\d)(?P<d>[0-3]\d)(?!\d)"),
)
# a decimal comma (405113,60) is a misread of the point: only a candidate, confirmed like any other amount
_AMOUNT_RE = re.compile(
    r"(?P<sign>[¥￥Y羊半])?(?P<num>\d{1,3}(?:,\d{3})+\.\d{2}|\d+\.\d{2}|\d{4,},\d{2}(?!\d))(?![\d%])"
)
_RATE_RE = re.compile(r"(?<![\d.])(?P<r>\d{1,2})(?:\.0+)?%")
_WORD_CHARS = set("零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整正参叄參貳陸圓染抬")
_WORDS_RUN = re.compile(r"[零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整正参叄參貳陸圓染抬]{3,}")


def _to_decimal(text: str) -> Decimal | None:
    if re.fullmatch(r"\d{4,},\d{2}", text):
        text = text.replace(",", ".")
    try:
        return Decimal(text.replace(",", ""))
    except (InvalidOperation, ValueError):
        return None


def item_candidates(item: Item) -> list[Candidate]:
    text = compact(item.text)
    upper = text.upper()
    found: list[Candidate] = []
    for match in _ALNUM_RUN.finditer(upper):
        run = match.group(0)
        if len(run) == 17:
            vin = run.translate(_VIN_FIX)
            if is_valid_vin(vin) and not vin.isdigit():
                found.append(Candidate(VIN, vin, item, match.start(), match.end(), run))
        elif len(run) == 18:
            if plausible_resident_id(run):
                found.append(Candidate(ID, run, item, match.start(), match.end(), run))
            elif is_valid_credit_code(run):
                found.append(Candidate(CREDIT, run, item, match.start(), match.end(), run))
        elif 18 < len(run) <= 24 and is_valid_credit_code(run[:18]) and not plausible_resident_id(run[:18]):
            # a code run into other print (the seal's copy of it, say): its first 18 characters
            found.append(Candidate(CREDIT, run[:18], item, match.start(), match.start() + 18, run))
    for match in _DIGIT_RUN.finditer(upper):
        run = match.group(0)
        if len(run) in (8, 10, 12, 20):
            found.append(Candidate(CODE_DIGITS, run, item, match.start(), match.end(), run))
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            try:
                value = dt.date(int(match.group("y")), int(match.group("m")), int(match.group("d")))
            except ValueError:
                continue
            if 2000 <= value.year <= 2100:
                found.append(Candidate(DATE, value, item, match.start(), match.end(), match.group(0)))
    for match in _AMOUNT_RE.finditer(text):
        value = _to_decimal(match.group("num"))
        if value is not None and value > 0:
            found.append(
                Candidate(
                    AMOUNT, value, item, match.start(), match.end(), match.group(0), bool(match.group("sign"))
                )
            )
    for match in _RATE_RE.finditer(text):
        rate = int(match.group("r"))
        if rate in TAX_RATES:
            found.append(Candidate(RATE, rate, item, match.start(), match.end(), match.group(0)))
    for match in _WORDS_RUN.finditer(text):
        value = parse_amount_words(match.group(0))
        if value is not None and value > 0:
            found.append(Candidate(WORDS, value, item, match.start(), match.end(), match.group(0)))
    return found


def words_share(text: str) -> int:
    return sum(ch in _WORD_CHARS for ch in compact(text))


def page_candidates(items: list[Item]) -> dict[str, list[Candidate]]:
    """Every valid candidate on the page, by type."""
    by_type: dict[str, list[Candidate]] = {}
    for item in items:
        for candidate in item_candidates(item):
            by_type.setdefault(candidate.type, []).append(candidate)
    return by_type
