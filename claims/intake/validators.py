"""Field validators for claim submissions (docs/api.md lists the fields).

Every `validate_*` function takes the raw string from the request and returns the normalised value, or raises
`FieldError` with the contract's refusal code and a Chinese message. The `*_check_*` helpers compute check
characters so that tests and fixtures can build valid numbers; the `*_ok` helpers answer yes/no for review checks
that must not refuse a submission (Luhn).

Normalisation common to all fields: Unicode NFKC (so full-width digits and letters typed with a Chinese input
method become ASCII), letters upper-cased where the format is case-insensitive, and separators people commonly
type (spaces, dashes, dots) removed where the format has none.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from claims.errors import FieldError

__all__ = [
    "credit_code_check_char",
    "credit_code_ok",
    "id_number_birth_date",
    "id_number_check_char",
    "luhn_ok",
    "names_match",
    "plate_kind",
    "validate_bank_account",
    "validate_credit_code",
    "validate_id_number",
    "validate_person_name",
    "validate_phone",
    "validate_plate",
    "validate_vin",
    "vin_check_digit",
]

_WHITESPACE = re.compile(r"\s+")


def _nfkc(s: str | None) -> str:
    return unicodedata.normalize("NFKC", s or "")


def _compact(s: str | None, separators: str = "") -> str:
    """NFKC, then drop all whitespace and the given separator characters."""
    value = _WHITESPACE.sub("", _nfkc(s))
    for ch in separators:
        value = value.replace(ch, "")
    return value


def _today() -> date:
    try:
        return timezone.localdate()
    except Exception:  # settings not configured (plain unit use): fall back to the system date
        return date.today()


# --- Resident ID number (GB 11643-1999, check character ISO 7064 MOD 11-2) -------------------------------------

_ID_WEIGHTS = tuple(
    pow(2, 17 - i, 11) for i in range(17)
)  # 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2
_ID_CHECK_CHARS = "10X98765432"
_ID_RE = re.compile(r"[0-9]{17}[0-9X]")
_ID_MIN_BIRTH = date(1900, 1, 1)


def id_number_check_char(first17: str) -> str:
    """The check character ('0'-'9' or 'X') for the first 17 digits of a resident ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise ValueError("first17 must be 17 ASCII digits")
    total = sum(int(d) * w for d, w in zip(first17, _ID_WEIGHTS, strict=True))
    return _ID_CHECK_CHARS[total % 11]


def id_number_birth_date(s: str) -> date | None:
    """The birth date encoded in an 18-character ID number (positions 7-14), or None if it is not a date."""
    value = _compact(s).upper()
    if len(value) != 18 or not value[6:14].isascii() or not value[6:14].isdigit():
        return None
    try:
        return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return None


def validate_id_number(s: str, *, today: date | None = None) -> str:
    """An 18-character resident ID number, upper-case X. The region code is deliberately not checked."""
    value = _compact(s, "-").upper()
    if not _ID_RE.fullmatch(value):
        raise FieldError("invalid_id_number", _("身份证号码应为18位，前17位为数字，最后一位为数字或X。"))
    birth = id_number_birth_date(value)
    if birth is None or birth < _ID_MIN_BIRTH or birth > (today or _today()):
        raise FieldError("invalid_id_number", _("身份证号码中的出生日期无效。"))
    if id_number_check_char(value[:17]) != value[17]:
        raise FieldError("invalid_id_number", _("身份证号码校验位不正确，请核对后重新填写。"))
    return value


# --- VIN (ISO 3779 / GB 16735, check digit at position 9) ----------------------------------------------------

_VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"  # no I, O, Q
_VIN_RE = re.compile(rf"[{_VIN_CHARS}]{{17}}")
_VIN_WEIGHTS = (8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2)
_VIN_VALUES = {
    **{str(d): d for d in range(10)},
    **dict(zip("ABCDEFGH", range(1, 9), strict=True)),
    **dict(zip("JKLMN", range(1, 6), strict=True)),
    "P": 7,
    "R": 9,
    **dict(zip("STUVWXYZ", range(2, 10), strict=True)),
}


def vin_check_digit(vin: str) -> str:
    """The check digit ('0'-'9' or 'X') for a 17-character VIN; whatever is at position 9 is ignored."""
    value = vin.upper()
    if len(value) != 17 or any(ch not in _VIN_VALUES for ch in value[:8] + value[9:]):
        raise ValueError("vin must be 17 characters from 0-9 and A-Z without I, O, Q")
    total = sum(
        _VIN_VALUES[ch] * w for i, (ch, w) in enumerate(zip(value, _VIN_WEIGHTS, strict=True)) if i != 8
    )
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def validate_vin(s: str) -> str:
    value = _compact(s, "-").upper()
    if len(value) != 17:
        raise FieldError("invalid_vin", _("车辆识别代号（VIN）应为17位。"))
    if not _VIN_RE.fullmatch(value):
        raise FieldError("invalid_vin", _("车辆识别代号（VIN）只能包含数字和字母，且不含字母I、O、Q。"))
    if vin_check_digit(value) != value[8]:
        raise FieldError("invalid_vin", _("车辆识别代号（VIN）第9位校验位不正确，请核对后重新填写。"))
    return value


# --- Plate number (GA 36-2018) ----------------------------------------------------------------------------------

PLATE_PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # no I, O
_PLATE_ALNUM = "0-9" + _PLATE_LETTERS
# Letters that mark a new-energy plate: D, A, B, C, E for pure electric; F, G, H, J, K for the others.
_NEV_TYPE = "DABCEFGHJK"
_PLATE_ORDINARY_RE = re.compile(rf"[{PLATE_PROVINCES}][{_PLATE_LETTERS}][{_PLATE_ALNUM}]{{5}}")
# Small new-energy cars: type letter, then a letter or digit, then four digits (京AD12345, 京AF1A234).
# Large new-energy vehicles: five digits, then the type letter (京A12345D).
_PLATE_NEV_RE = re.compile(
    rf"[{PLATE_PROVINCES}][{_PLATE_LETTERS}](?:[{_NEV_TYPE}][{_PLATE_ALNUM}][0-9]{{4}}|[0-9]{{5}}[{_NEV_TYPE}])"
)


def _normalise_plate(s: str) -> str:
    return _compact(s, "·•・.-").upper()


def validate_plate(s: str) -> str:
    """A civil plate: province character, city letter, then 5 characters (ordinary) or 6 (new-energy)."""
    value = _normalise_plate(s)
    if _PLATE_ORDINARY_RE.fullmatch(value) or _PLATE_NEV_RE.fullmatch(value):
        return value
    if not value or value[0] not in PLATE_PROVINCES:
        raise FieldError("invalid_plate", _("车牌号码应以省份简称开头，例如“京A12345”。"))
    if len(value) not in (7, 8):
        raise FieldError("invalid_plate", _("车牌号码长度不正确：普通车牌为7位，新能源车牌为8位。"))
    raise FieldError(
        "invalid_plate",
        _("车牌号码格式不正确：省份简称、城市字母后为5位（新能源车为6位）字母或数字，不使用字母I和O。"),
    )


def plate_kind(s: str) -> str:
    """'nev' for an 8-character new-energy plate, 'ordinary' for a 7-character one. Raises FieldError if invalid."""
    return "nev" if len(validate_plate(s)) == 8 else "ordinary"


# --- Mobile phone ---------------------------------------------------------------------------------------------

_PHONE_RE = re.compile(r"1[3-9][0-9]{9}")


def validate_phone(s: str) -> str:
    """A mainland mobile number as 11 digits; +86 / 86 / 0086 prefixes and spaces, dashes, brackets dropped."""
    value = _compact(s, "-()")
    for prefix in ("+86", "0086", "86"):
        if value.startswith(prefix) and len(value) == len(prefix) + 11:
            value = value[len(prefix) :]
            break
    if not _PHONE_RE.fullmatch(value):
        raise FieldError("invalid_phone", _("请填写有效的11位中国大陆手机号码。"))
    return value


# --- Bank account ----------------------------------------------------------------------------------------------

_BANK_ACCOUNT_RE = re.compile(r"[0-9]{16,19}")


def validate_bank_account(s: str) -> str:
    """A debit card number: 16-19 digits once spaces are removed. The Luhn check is separate (`luhn_ok`)."""
    value = _compact(s)
    if not _BANK_ACCOUNT_RE.fullmatch(value):
        raise FieldError("invalid_bank_account", _("银行卡号应为16至19位数字。"))
    return value


def luhn_ok(s: str) -> bool:
    """True if the digits (spaces ignored) pass the Luhn check. A failure is a review check, never a refusal."""
    value = _compact(s)
    if not value or not value.isascii() or not value.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(value)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# --- Unified social credit code (GB 32100-2015) ---------------------------------------------------------------

_CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_CREDIT_VALUES = {ch: i for i, ch in enumerate(_CREDIT_CHARS)}
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_CREDIT_RE = re.compile(rf"[{_CREDIT_CHARS}]{{18}}")


def credit_code_check_char(first17: str) -> str:
    """The check character for the first 17 characters of a unified social credit code."""
    value = first17.upper()
    if len(value) != 17 or any(ch not in _CREDIT_VALUES for ch in value):
        raise ValueError("first17 must be 17 characters from the GB 32100 character set")
    total = sum(_CREDIT_VALUES[ch] * w for ch, w in zip(value, _CREDIT_WEIGHTS, strict=True))
    return _CREDIT_CHARS[(31 - total % 31) % 31]


def credit_code_ok(s: str) -> bool:
    value = _compact(s, "-").upper()
    return bool(_CREDIT_RE.fullmatch(value)) and credit_code_check_char(value[:17]) == value[17]


def validate_credit_code(s: str) -> str:
    value = _compact(s, "-").upper()
    if not _CREDIT_RE.fullmatch(value):
        raise FieldError(
            "invalid_credit_code",
            _("统一社会信用代码应为18位数字或大写字母（不含I、O、S、V、Z）。"),
        )
    if credit_code_check_char(value[:17]) != value[17]:
        raise FieldError("invalid_credit_code", _("统一社会信用代码校验位不正确，请核对后重新填写。"))
    return value


# --- Person names -------------------------------------------------------------------------------------------------

MIDDLE_DOT = "·"  # U+00B7, the form used by the public security ID system
# Variants people and OCR produce: bullet, hyphenation point, katakana middle dot, dot operator, full stop,
# full-width full stop (NFKC maps it to '.'), one-dot leader, bullet operator.
_DOT_VARIANTS = "\u00b7\u2022\u2027\u30fb\uff65\u22c5\u2024\u2219\u0387\u16eb\u2e31"
_DOTS_TO_MIDDLE = str.maketrans(dict.fromkeys(_DOT_VARIANTS, MIDDLE_DOT))
# CJK unified ideographs (basic, extension A, extensions B-F and compatibility), plus 〇.
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f\U00030000-\U0003134f"
_HAN_NAME_RE = re.compile(rf"[{_HAN}]+(?:·[{_HAN}]+)*")
_LATIN_NAME_RE = re.compile(r"[A-Za-z]+(?:[ '\-.·]+[A-Za-z]+)*\.?")


def _normalise_name(s: str) -> str:
    value = _WHITESPACE.sub(" ", _nfkc(s).translate(_DOTS_TO_MIDDLE)).strip()
    if re.search(f"[{_HAN}]", value):
        # Chinese names carry no spaces; a '.' between characters is a mistyped middle dot.
        value = value.replace(" ", "").replace(".", MIDDLE_DOT)
    return value


def validate_person_name(s: str) -> str:
    """2-30 characters: a Chinese name (parts joined by '·' for some ethnic names) or a Latin-letter name."""
    value = _normalise_name(s)
    if not 2 <= len(value) <= 30:
        raise FieldError("invalid_name", _("姓名应为2至30个字符。"))
    if not (_HAN_NAME_RE.fullmatch(value) or _LATIN_NAME_RE.fullmatch(value)):
        raise FieldError("invalid_name", _("姓名只能包含汉字（可含间隔号“·”）或英文字母。"))
    return value


def _name_key(s: str) -> str:
    # Separators are dropped altogether: bank and invoice systems often omit the middle dot or the spaces.
    return re.sub(r"[\s·.\-']", "", _normalise_name(s)).casefold()


def names_match(a: str | None, b: str | None) -> bool:
    """Whether two spellings name the same person (account holder vs applicant, invoice buyer vs applicant).

    Ignores whitespace, full-width/half-width forms, letter case and the variants (or absence) of the middle dot.
    """
    key_a, key_b = _name_key(a or ""), _name_key(b or "")
    return bool(key_a) and key_a == key_b
