"""Field validators: known vectors, generated valid numbers, and property tests."""

from __future__ import annotations

import string
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from claims.errors import FieldError
from claims.intake.validators import (
    credit_code_check_char,
    credit_code_ok,
    id_number_birth_date,
    id_number_check_char,
    luhn_ok,
    names_match,
    plate_kind,
    validate_bank_account,
    validate_credit_code,
    validate_id_number,
    validate_person_name,
    validate_phone,
    validate_plate,
    validate_vin,
    vin_check_digit,
)

VIN_CHARS = "0123456789ABCDEFGHJKLMNPRSTUVWXYZ"
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"


# --- generators (test-side factories built on the public check-character helpers) ---------------------------


def make_id_number(birth: date, seq: int = 1, region: str = "110105") -> str:
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


def make_vin(prefix: str = "LSV", serial: str = "AB1234567") -> str:
    """A valid VIN: 3-char WMI + 5-char VDS + check digit + 8 chars (model year, plant, serial)."""
    body = (prefix + "ZZZZZZZZZZZZZZZZZ")[:8] + "0" + serial[-8:].rjust(8, "0")
    return body[:8] + vin_check_digit(body) + body[9:]


def make_credit_code(body: str = "91110000MA01ABCD1") -> str:
    return body + credit_code_check_char(body)


def refused(func, value, code):
    with pytest.raises(FieldError) as info:
        func(value)
    assert info.value.code == code
    assert info.value.message  # a Chinese message is always there
    return info.value


# --- ID numbers -------------------------------------------------------------------------------------------------


class TestIdNumber:
    def test_standard_example(self):
        assert validate_id_number("11010519491231002X") == "11010519491231002X"

    def test_lowercase_x_and_spaces_are_normalised(self):
        assert validate_id_number(" 110105 19491231 002x ") == "11010519491231002X"

    def test_full_width_digits_are_normalised(self):
        assert validate_id_number("１１０１０５１９４９１２３１００２Ｘ") == "11010519491231002X"

    def test_check_char_of_the_standard(self):
        assert id_number_check_char("11010519491231002") == "X"
        assert id_number_check_char("44052418800101001") == "4"

    def test_generated_numbers_are_valid(self):
        for seq in (1, 2, 99, 998):
            number = make_id_number(date(1985, 2, 28), seq)
            assert validate_id_number(number) == number

    def test_unknown_region_code_is_not_refused(self):
        number = make_id_number(date(1990, 6, 1), region="990000")
        assert validate_id_number(number) == number
        number = make_id_number(date(1990, 6, 1), region="000000")
        assert validate_id_number(number) == number

    def test_wrong_check_char(self):
        err = refused(validate_id_number, "110105194912310021", "invalid_id_number")
        assert "校验" in err.message

    @pytest.mark.parametrize(
        "value",
        [
            "",
            "1101051949123100",
            "11010519491231002XX",
            "11010519491231002Y",
            "X1010519491231002X",
            "1101051949123100X2",
        ],
    )
    def test_bad_shape(self, value):
        refused(validate_id_number, value, "invalid_id_number")

    @pytest.mark.parametrize("birth", ["19490230", "19491301", "19490000", "20230229"])
    def test_impossible_birth_dates(self, birth):
        first17 = f"110105{birth}002"
        refused(validate_id_number, first17 + id_number_check_char(first17), "invalid_id_number")

    def test_leap_day_is_a_real_date(self):
        number = make_id_number(date(2000, 2, 29))
        assert validate_id_number(number) == number

    def test_before_1900_refused(self):
        refused(validate_id_number, "440524188001010014", "invalid_id_number")  # valid checksum, born 1880
        number = make_id_number(date(1900, 1, 1))
        assert validate_id_number(number) == number

    def test_future_birth_date_refused(self):
        today = date(2024, 5, 1)
        assert validate_id_number(make_id_number(today), today=today)
        refused(
            lambda s: validate_id_number(s, today=today),
            make_id_number(today + timedelta(days=1)),
            "invalid_id_number",
        )
        refused(validate_id_number, make_id_number(date(2999, 1, 1)), "invalid_id_number")

    def test_birth_date_helper(self):
        assert id_number_birth_date("11010519491231002X") == date(1949, 12, 31)
        assert id_number_birth_date("11010519491331002X") is None
        assert id_number_birth_date("123") is None

    @settings(max_examples=200, deadline=None)
    @given(
        birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
        seq=st.integers(0, 999),
        region=st.text(string.digits, min_size=6, max_size=6),
    )
    def test_property_generated_valid_and_any_single_change_refused(self, birth, seq, region):
        number = make_id_number(birth, seq, region)
        assert validate_id_number(number.lower()) == number
        # MOD 11-2 detects every single-character substitution.
        for pos in range(18):
            for ch in "0123456789X":
                if ch != number[pos]:
                    changed = number[:pos] + ch + number[pos + 1 :]
                    with pytest.raises(FieldError):
                        validate_id_number(changed)
                    break


# --- VIN --------------------------------------------------------------------------------------------------------


class TestVin:
    @pytest.mark.parametrize("vin", ["1M8GDM9AXKP042788", "11111111111111111", "1HGCM82633A004352"])
    def test_known_good(self, vin):
        assert validate_vin(vin) == vin

    def test_lowercase_and_spaces_normalised(self):
        assert validate_vin(" 1m8gdm9axkp042788 ") == "1M8GDM9AXKP042788"

    def test_check_digit_x(self):
        assert vin_check_digit("1M8GDM9A_KP042788".replace("_", "0")) == "X"

    def test_generated(self):
        for prefix in ("LSV", "LFV", "LGB", "WVW", "LHGCM826"):
            vin = make_vin(prefix)
            assert validate_vin(vin) == vin

    @pytest.mark.parametrize(
        "vin,part",
        [
            ("1M8GDM9A1KP042788", "校验"),  # wrong check digit
            ("1M8GDM9AXKP04278", "17"),  # 16 characters
            ("1M8GDM9AXKP0427881", "17"),  # 18 characters
            ("IM8GDM9AXKP042788", "I"),  # I is never used
            ("1M8GDM9AXKPO42788", "I"),  # O
            ("1M8GDM9AXKPQ42788", "I"),  # Q
            ("1M8GDM9AXKP04278*", "I"),
        ],
    )
    def test_known_bad(self, vin, part):
        err = refused(validate_vin, vin, "invalid_vin")
        assert part in err.message

    @settings(max_examples=200, deadline=None)
    @given(st.text(VIN_CHARS, min_size=17, max_size=17))
    def test_property(self, raw):
        vin = raw[:8] + vin_check_digit(raw) + raw[9:]
        assert validate_vin(vin) == vin
        wrong = "0" if vin[8] != "0" else "1"
        with pytest.raises(FieldError):
            validate_vin(vin[:8] + wrong + vin[9:])


# --- plates -----------------------------------------------------------------------------------------------------


class TestPlate:
    @pytest.mark.parametrize(
        "plate,kind",
        [
            ("京A12345", "ordinary"),
            ("沪B9Z8Y7", "ordinary"),
            ("晋KA0001", "ordinary"),
            ("粤BD12345", "nev"),  # small new-energy car, pure electric
            ("京AF12345", "nev"),  # small, non-pure-electric
            ("浙ADA1234", "nev"),  # second position may be a letter
            ("川A12345D", "nev"),  # large new-energy vehicle
            ("苏E12345F", "nev"),
        ],
    )
    def test_known_good(self, plate, kind):
        assert validate_plate(plate) == plate
        assert plate_kind(plate) == kind

    @pytest.mark.parametrize(
        "raw,expected",
        [
            ("京a 12345", "京A12345"),
            ("京A·12345", "京A12345"),
            ("晋k-ad1234", "晋KAD1234"),
            ("粤Ｂ１２３４５", "粤B12345"),
        ],
    )
    def test_normalised(self, raw, expected):
        assert validate_plate(raw) == expected

    @pytest.mark.parametrize(
        "plate",
        [
            "",
            "A12345",  # no province
            "港A12345",  # not a mainland province abbreviation
            "京12345",  # no city letter
            "京I12345",  # city letter I
            "京A1234",  # too short
            "京A1234567",  # too long
            "京AO2345",  # O
            "京A1I345",  # I
            "京AX12345",  # 8 characters but X is not a new-energy type letter
            "京AD1234A",  # small new-energy plates end in 4 digits
            "京AF1A234",
            "京A1234DD",
            "京A12345学",
        ],
    )
    def test_known_bad(self, plate):
        refused(validate_plate, plate, "invalid_plate")
        with pytest.raises(FieldError):
            plate_kind(plate)


# --- phone ------------------------------------------------------------------------------------------------------


class TestPhone:
    @pytest.mark.parametrize(
        "raw",
        [
            "13800138000",
            "+86 138 0013 8000",
            "86-138-0013-8000",
            "+8613800138000",
            "0086 13800138000",
            "１３８００１３８０００",
        ],
    )
    def test_good(self, raw):
        assert validate_phone(raw) == "13800138000"

    @pytest.mark.parametrize("start", "3456789")
    def test_all_mobile_prefixes(self, start):
        assert validate_phone(f"1{start}912345678") == f"1{start}912345678"

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "12800138000",
            "10800138000",
            "1380013800",
            "138001380001",
            "010-12345678",
            "+1 138 0013 8000",
            "1380013800a",
        ],
    )
    def test_bad(self, raw):
        refused(validate_phone, raw, "invalid_phone")


# --- bank account -----------------------------------------------------------------------------------------------


class TestBankAccount:
    @pytest.mark.parametrize("raw", ["6222 0212 3456 7890", "6222021234567890123", "4111111111111111"])
    def test_good(self, raw):
        assert validate_bank_account(raw) == raw.replace(" ", "")

    @pytest.mark.parametrize(
        "raw", ["", "622202123456789", "62220212345678901234", "6222-0212-3456-7890", "6222O21234567890"]
    )
    def test_bad(self, raw):
        err = refused(validate_bank_account, raw, "invalid_bank_account")
        assert "16" in err.message

    def test_luhn_failure_is_not_a_refusal(self):
        assert validate_bank_account("4111111111111112") == "4111111111111112"
        assert luhn_ok("4111111111111112") is False

    @pytest.mark.parametrize("raw", ["4111111111111111", "79927398713", "4111 1111 1111 1111", "0"])
    def test_luhn_good(self, raw):
        assert luhn_ok(raw)

    @pytest.mark.parametrize("raw", ["4111111111111112", "79927398710", "", "abc", "4111-1111"])
    def test_luhn_bad(self, raw):
        assert not luhn_ok(raw)

    @given(st.text(string.digits, min_size=15, max_size=18))
    def test_luhn_property_one_check_digit_fits(self, body):
        assert sum(luhn_ok(body + d) for d in string.digits) == 1


# --- credit code ------------------------------------------------------------------------------------------------


class TestCreditCode:
    @pytest.mark.parametrize(
        "code", ["91350100M000100Y43", "91110000802100433B", "91310000775785552L", "914403001922038216"]
    )
    def test_known_good(self, code):
        assert validate_credit_code(code) == code
        assert credit_code_ok(code)

    def test_normalised(self):
        assert validate_credit_code(" 91350100m000100y43 ") == "91350100M000100Y43"

    def test_check_char_31_maps_to_zero(self):
        # Search a body whose weighted sum is a multiple of 31: the check character must then be '0'.
        for n in range(100000):
            body = f"9111000{n:010d}"
            if credit_code_check_char(body) == "0":
                assert validate_credit_code(body + "0")
                break
        else:  # pragma: no cover
            pytest.fail("no body with check character 0 found")

    def test_generated(self):
        code = make_credit_code()
        assert validate_credit_code(code) == code

    @pytest.mark.parametrize(
        "code",
        [
            "",
            "91350100M000100Y44",  # wrong check character
            "91350100M000100Y4",  # 17
            "91350100M000100Y433",  # 19
            "91350100I000100Y43",  # I is not in the character set
            "91350100S000100Y43",  # nor S, V, Z, O
            "91350100M000100Z43",
        ],
    )
    def test_known_bad(self, code):
        refused(validate_credit_code, code, "invalid_credit_code")
        assert not credit_code_ok(code)

    @given(st.text(CREDIT_CHARS, min_size=17, max_size=17))
    def test_property(self, body):
        code = body + credit_code_check_char(body)
        assert credit_code_ok(code)
        assert sum(credit_code_ok(body + c) for c in CREDIT_CHARS) == 1


# --- names ------------------------------------------------------------------------------------------------------


class TestNames:
    @pytest.mark.parametrize(
        "raw,expected",
        [
            ("张三", "张三"),
            (" 张  三 ", "张三"),
            ("欧阳娜娜", "欧阳娜娜"),
            ("阿卜杜·买买提", "阿卜杜·买买提"),
            ("阿卜杜・买买提", "阿卜杜·买买提"),  # katakana middle dot
            ("阿卜杜•买买提", "阿卜杜·买买提"),  # bullet
            ("阿卜杜.买买提", "阿卜杜·买买提"),
            ("阿卜杜．买买提", "阿卜杜·买买提"),  # full-width full stop
            ("John Smith", "John Smith"),
            ("ＪＯＨＮ  ＳＭＩＴＨ", "JOHN SMITH"),
            ("Mary-Jane O'Neil", "Mary-Jane O'Neil"),
            ("䶮䶮", "䶮䶮"),  # extension A
        ],
    )
    def test_good(self, raw, expected):
        assert validate_person_name(raw) == expected

    @pytest.mark.parametrize(
        "raw",
        [
            "",
            "张",
            "A",
            "  ",
            "张三1",
            "张三!",
            "·张三",
            "张三·",
            "张··三",
            "张三Smith",
            "x" * 31,
            "张" * 31,
            "John_Smith",
        ],
    )
    def test_bad(self, raw):
        refused(validate_person_name, raw, "invalid_name")

    def test_length_limits(self):
        assert validate_person_name("张" * 30)
        assert validate_person_name("ab")

    @pytest.mark.parametrize(
        "a,b",
        [
            ("张三", "张三"),
            ("张三", " 张 三 "),
            ("阿卜杜·买买提", "阿卜杜・买买提"),
            ("阿卜杜·买买提", "阿卜杜买买提"),  # banks often drop the dot
            ("John Smith", "JOHN  SMITH"),
            ("John Smith", "ＪＯＨＮ ＳＭＩＴＨ"),
        ],
    )
    def test_match(self, a, b):
        assert names_match(a, b)
        assert names_match(b, a)

    @pytest.mark.parametrize(
        "a,b",
        [
            ("张三", "张四"),
            ("张三", "张三丰"),
            ("", ""),
            ("张三", None),
            (None, None),
            ("John Smith", "Jon Smith"),
        ],
    )
    def test_no_match(self, a, b):
        assert not names_match(a, b)
