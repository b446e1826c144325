"""Chinese financial numerals (大写金额): an exact Decimal writer and a strict parser.

The writer follows the People's Bank of China rules for 大写 amounts as printed by the tax-control software:
``壹拾伍万捌仟圆整``, ``壹佰圆零伍分``, ``壹拾万零柒仟圆伍角叁分``.

The parser is strict on purpose: it parses a candidate value and then accepts the text only when it is one of the
correct ways of writing that value (with the optional 零, 整/正 and 元/圆 variants the rules allow).  A text with
a dropped or extra character therefore yields ``None`` instead of a wrong amount.  OCR confusions are mapped only
where the replacement character can mean nothing else in a 大写 amount (``圓`` → ``圆``, ``參`` → ``叁``, ``百`` →
``佰`` …); confusions between two numeral characters (e.g. 伍/佰) are never "repaired".
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ["MAX_AMOUNT", "amount_to_words", "normalize_words", "parse_amount_words"]

MAX_AMOUNT = Decimal("99999999.99")
_CENT = Decimal("0.01")

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_DIGIT_VALUE = {ch: i for i, ch in enumerate(DIGITS)}
_SMALL_UNITS = {"拾": 10, "佰": 100, "仟": 1000}

# Characters an OCR engine (or a traditional-script font) may produce for a 大写 character, mapped only when the
# replacement cannot stand for any other character of a 大写 amount.
_CONFUSIONS = {
    "圓": "圆",
    "园": "圆",
    "貳": "贰",
    "弍": "贰",
    "參": "叁",
    "叄": "叁",
    "参": "叁",
    "陸": "陆",
    "萬": "万",
    "億": "亿",
    "〇": "零",
    "○": "零",
    "百": "佰",
    "千": "仟",
    "兀": "元",
    "圜": "圆",
    "染": "柒",
    "抬": "拾",
}
# Decorations printed before or around the amount on invoices and cheques.
_DECORATION_RE = re.compile(r"[\s⊗ⓧ⊕⨂⨀×✕Ⓧ\(\)（）:：,，.。·\-—_|]|人民币|大写")


def _round_cents(amount: Decimal) -> Decimal:
    return amount.quantize(_CENT, rounding=ROUND_HALF_UP)


def _section_words(section: int, leading_one: bool) -> str:
    """Words for 1..9999 (no leading 零); consecutive inner zeros collapse to one 零, trailing zeros are dropped."""
    out: list[str] = []
    digits = f"{section:04d}"
    pending_zero = False
    started = False
    for digit_char, unit in zip(digits, ("仟", "佰", "拾", ""), strict=True):
        digit = int(digit_char)
        if digit == 0:
            if started:
                pending_zero = True
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        if unit == "拾" and digit == 1 and not started and not leading_one:
            out.append("拾")
        else:
            out.append(DIGITS[digit] + unit)
        started = True
    return "".join(out)


def _integer_words(value: int, leading_one: bool = True, zero_after_wan: bool = False) -> str:
    """Words for the integer part 0..99,999,999 (without the 元/圆).

    ``zero_after_wan``: when the 万 digit is 0 but the 仟 digit is not (107000), the rules allow
    ``壹拾万零柒仟`` as well as ``壹拾万柒仟``.
    """
    if value == 0:
        return ""
    high, low = divmod(value, 10000)
    parts: list[str] = []
    if high:
        parts.append(_section_words(high, leading_one) + "万")
        if low:
            if low < 1000 or (zero_after_wan and high % 10 == 0):
                parts.append("零")
            parts.append(_section_words(low, True))
    else:
        parts.append(_section_words(low, leading_one))
    return "".join(parts)


def amount_to_words(
    amount: Decimal | int | str,
    *,
    unit: str = "圆",
    whole: str = "整",
) -> str:
    """Write an amount 0.01..99,999,999.99 in 大写 as the tax-control software prints it.

    >>> amount_to_words(Decimal("158000"))
    '壹拾伍万捌仟圆整'
    >>> amount_to_words(Decimal("100.05"))
    '壹佰圆零伍分'
    """
    if unit not in ("圆", "元"):
        raise ValueError("unit must be 圆 or 元")
    if whole not in ("整", "正"):
        raise ValueError("whole must be 整 or 正")
    value = _round_cents(Decimal(amount))
    if value <= 0 or value > MAX_AMOUNT:
        raise ValueError(f"amount out of range: {value}")
    return _variants(value, unit=unit, whole=whole)[0]


def _variants(value: Decimal, unit: str | None = None, whole: str | None = None) -> list[str]:
    """All acceptable ways of writing ``value``; the first one is the canonical form."""
    cents_total = int(value * 100)
    integer, cents = divmod(cents_total, 100)
    jiao, fen = divmod(cents, 10)
    units = [unit] if unit else ["圆", "元"]
    wholes = [whole] if whole else ["整", "正"]
    results: list[str] = []
    int_forms: list[str] = []
    for leading_one, zero_after_wan in itertools.product((True, False), (False, True)):
        form = _integer_words(integer, leading_one, zero_after_wan)
        if form not in int_forms:
            int_forms.append(form)
    for int_form, u in itertools.product(int_forms, units):
        head = int_form + u if integer else ""
        tails: list[str] = []
        if jiao == 0 and fen == 0:
            tails = [w for w in wholes] + ([""] if not whole else [])
        elif fen == 0:
            # 角 without 分: "伍角" (整 optional); 零 before 角 optional when the 元 digit is 0.
            base = [DIGITS[jiao] + "角"]
            if integer and integer % 10 == 0:
                base.append("零" + DIGITS[jiao] + "角")
            for b in base:
                tails.append(b)
                tails.extend(b + w for w in wholes)
        elif jiao == 0:
            # 元零X分 (the rule); without the 零 the meaning is still unambiguous thanks to 分.
            tails = [DIGITS[fen] + "分"] if not integer else ["零" + DIGITS[fen] + "分", DIGITS[fen] + "分"]
        else:
            base = [DIGITS[jiao] + "角" + DIGITS[fen] + "分"]
            if integer and integer % 10 == 0:
                base.append("零" + base[0])
            tails = base
        for tail in tails:
            text = head + tail
            if text and text not in results:
                results.append(text)
    return results


def _strip_leading_mark(text: str) -> str:
    """Drop one leading symbol, digit or Latin letter: what OCR makes of the ⊗ printed before the amount (□, ②, 8).

    A CJK character is never dropped, since it could be a misread numeral.
    """
    if len(text) >= 2 and text[1] in DIGITS[1:] + "拾":
        first = text[0]
        category = unicodedata.category(first)
        if category[0] in "SPN" or (first.isascii() and first.isalpha()) or category == "So":
            return text[1:]
    return text


def normalize_words(text: str) -> str:
    """NFKC, strip decorations and map unambiguous OCR confusions."""
    text = unicodedata.normalize("NFKC", text)
    text = _DECORATION_RE.sub("", text)
    text = _strip_leading_mark(text)
    return "".join(_CONFUSIONS.get(ch, ch) for ch in text)


def _lenient_parse(text: str) -> Decimal | None:
    """Parse without validating the form; returns None on anything that is not made of 大写 characters."""
    match = re.fullmatch(
        r"(?P<int>[零壹贰叁肆伍陆柒捌玖拾佰仟万亿]*?)(?:[圆元])?(?P<frac>[零壹贰叁肆伍陆柒捌玖角分]*)(?:[整正])?",
        text,
    )
    if not match:
        return None
    int_text = match.group("int")
    frac_text = match.group("frac")
    if not int_text and not frac_text:
        return None
    if int_text and not re.search(r"[圆元]", text):
        return None
    total = 0
    section = 0
    digit: int | None = None
    for ch in int_text:
        if ch in _DIGIT_VALUE:
            digit = _DIGIT_VALUE[ch]
        elif ch in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        elif ch == "亿":
            total = (total + section + (digit or 0)) * 100000000
            section, digit = 0, None
    total += section + (digit or 0)
    jiao = fen = 0
    frac_match = re.fullmatch(
        r"零?(?:(?P<j>[壹贰叁肆伍陆柒捌玖])角)?零?(?:(?P<f>[壹贰叁肆伍陆柒捌玖])分)?", frac_text
    )
    if not frac_match:
        return None
    if frac_match.group("j"):
        jiao = _DIGIT_VALUE[frac_match.group("j")]
    if frac_match.group("f"):
        fen = _DIGIT_VALUE[frac_match.group("f")]
    try:
        return Decimal(total) + Decimal(jiao) / 10 + Decimal(fen) / 100
    except InvalidOperation:  # pragma: no cover - defensive
        return None


def parse_amount_words(text: str) -> Decimal | None:
    """Parse a 大写 amount; ``None`` unless the text is a correct writing of exactly one amount.

    >>> parse_amount_words("⊗壹拾伍万捌仟圆整")
    Decimal('158000.00')
    """
    if not text:
        return None
    norm = normalize_words(text)
    value = _lenient_parse(norm)
    if value is None or value <= 0 or value > MAX_AMOUNT:
        return None
    value = _round_cents(value)
    if norm in _variants(value):
        return value
    return None
