import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ocr.numerals import MAX_AMOUNT, _variants, amount_to_words, parse_amount_words

cents = st.integers(min_value=1, max_value=9_999_999_999)


@settings(max_examples=3000, deadline=None)
@given(cents)
def test_round_trip_hypothesis(n: int) -> None:
    value = Decimal(n) / 100
    assert parse_amount_words(amount_to_words(value)) == value
    assert parse_amount_words(amount_to_words(value, unit="元", whole="正")) == value


def test_round_trip_large_random_sample() -> None:
    rng = random.Random(20230428)
    for _ in range(30_000):
        value = Decimal(rng.randint(1, 9_999_999_999)) / 100
        words = amount_to_words(value)
        assert parse_amount_words(words) == value, words


def test_every_accepted_variant_parses_to_its_value() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        value = Decimal(rng.randint(1, 9_999_999_999)) / 100
        for text in _variants(value):
            assert parse_amount_words(text) == value, text


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("158000", "壹拾伍万捌仟圆整"),
        ("0.01", "壹分"),
        ("0.5", "伍角"),
        ("0.05", "伍分"),
        ("10", "壹拾圆整"),
        ("100.05", "壹佰圆零伍分"),
        ("100.50", "壹佰圆伍角"),
        ("1001", "壹仟零壹圆整"),
        ("100010", "壹拾万零壹拾圆整"),
        ("1000000", "壹佰万圆整"),
        ("10005000", "壹仟万伍仟圆整"),
        ("10000500", "壹仟万零伍佰圆整"),
        ("174744.46", "壹拾柒万肆仟柒佰肆拾肆圆肆角陆分"),
        ("99999999.99", "玖仟玖佰玖拾玖万玖仟玖佰玖拾玖圆玖角玖分"),
    ],
)
def test_writer_edge_cases(value: str, words: str) -> None:
    assert amount_to_words(Decimal(value)) == words
    assert parse_amount_words(words) == Decimal(value)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("壹拾伍万捌仟元整", "158000"),  # 元 instead of 圆
        ("壹拾伍万捌仟圆正", "158000"),  # 正 instead of 整
        ("壹拾伍万捌仟圆", "158000"),  # 整 dropped: still unambiguous
        ("拾伍圆整", "15"),  # leading 壹 omitted
        ("壹佰圆伍分", "100.05"),  # 元零X分 without the 零
        ("壹佰圆伍角整", "100.50"),  # 角 then 整
        ("壹拾万零柒仟圆伍角叁分", "107000.53"),  # optional 零 after 万
        ("壹仟陆佰捌拾元零叁角贰分", "1680.32"),  # optional 零 after 元 when the 元 digit is 0
        ("⊗壹拾伍万捌仟圓整", "158000"),  # decoration and the traditional 圓
        ("(大写)壹拾伍万捌仟圆整", "158000"),
        ("肆拾万伍仟伍佰壹拾玖圆壹角参分", "405519.13"),  # 参 read for 叁
        ("叁拾捌万伍仟玖佰圆染角", "385900.70"),  # 染 read for 柒
        ("壹拾伍万捌千圆整", "158000"),  # 千 for 仟
        ("□叁拾陆万叁仟贰佰伍拾柒圆整", "363257"),  # what OCR makes of ⊗
        ("②壹拾捌万柒仟贰佰陆拾陆元壹角参分", "187266.13"),
    ],
)
def test_parser_accepts_valid_and_unambiguous_forms(text: str, value: str) -> None:
    assert parse_amount_words(text) == Decimal(value)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "整",
        "壹拾伍万捌圆整",  # a dropped unit: 150008 would need 零
        "壹贰圆整",  # two digits in a row
        "壹佰伍角",  # no 元 between the integer part and 角
        "伍角陆",  # 分 missing
        "壹拾伍万捌仟佰圆整",  # unit without digit inside
        "壹亿圆整",  # above the range
        "零圆整",
        "壹拾伍万捌仟零圆整",  # a trailing 零 is not a correct writing
        "壹仟零零伍圆整",  # doubled 零
        "口壹拾圆整",  # a leading CJK character is never dropped: it could be a misread numeral
        "12圆整",
    ],
)
def test_parser_rejects_malformed(text: str) -> None:
    assert parse_amount_words(text) is None


def test_writer_range() -> None:
    with pytest.raises(ValueError):
        amount_to_words(Decimal("0"))
    with pytest.raises(ValueError):
        amount_to_words(MAX_AMOUNT + Decimal("0.01"))
    assert amount_to_words(Decimal("0.014")) == "壹分"
