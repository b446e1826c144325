"""Check-digit validators and helpers for the identifiers printed on the documents."""

from __future__ import annotations

import datetime as dt
import re

__all__ = [
    "credit_code_check_char",
    "id_check_char",
    "is_valid_credit_code",
    "is_valid_id_number",
    "is_valid_vin",
    "vin_check_char",
]

# --- VIN (GB 16735 / ISO 3779 check digit in position 9) -------------------------------------------------------
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
VIN_RE = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")


def vin_check_char(vin: str) -> str:
    total = sum(_VIN_VALUES[c] * w for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    rest = total % 11
    return "X" if rest == 10 else str(rest)


def is_valid_vin(vin: str) -> bool:
    return bool(VIN_RE.match(vin or "")) and vin[8] == vin_check_char(vin)


# --- Resident ID (GB 11643, ISO 7064 MOD 11-2) ------------------------------------------------------------------
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_RE = re.compile(r"^\d{17}[\dX]$")


def id_check_char(first17: str) -> str:
    total = sum(int(c) * w for c, w in zip(first17, _ID_WEIGHTS, strict=True))
    return "10X98765432"[total % 11]


def is_valid_id_number(value: str) -> bool:
    if not ID_RE.match(value or ""):
        return False
    try:
        dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return value[17] == id_check_char(value[:17])


# --- Unified social credit code (GB 32100, MOD 31) --------------------------------------------------------------
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
CREDIT_RE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{18}$")


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS, strict=True))
    return CREDIT_CHARS[(31 - total % 31) % 31]


def is_valid_credit_code(value: str) -> bool:
    if not CREDIT_RE.match(value or ""):
        return False
    return value[17] == credit_code_check_char(value[:17])
