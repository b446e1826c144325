"""Typed candidates, the label vocabulary and label binding, on hand-made OCR lines (no engine needed)."""

import datetime as dt
from decimal import Decimal

import pytest

from ocr.engines import TextLine
from ocr.labels import FIELD_LABELS, VOCABULARY, is_furniture, is_label_text
from ocr.numerals import amount_to_words
from ocr.readers import read_fields
from ocr.readers.base import Layout
from ocr.readers.candidates import AMOUNT, CREDIT, DATE, ID, RATE, VIN, WORDS, page_candidates
from ocr.readers.invoice import FIELDS
from tests.factories import make_credit_code, make_id_number, make_vin


def line(text: str, x: float, y: float, conf: float = 0.99, h: float = 40) -> TextLine:
    w = 24 * len(text)
    return TextLine(text, conf, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)), "rapidocr")


def types(*texts: str) -> dict:
    layout = Layout([line(t, 100, 100 + 60 * i) for i, t in enumerate(texts)])
    return {k: [c.value for c in v] for k, v in page_candidates(layout.items).items()}


def test_check_characters_decide_the_type() -> None:
    vin, person, code = make_vin(7), make_id_number(), make_credit_code(4)
    found = types(f"车架号码{vin}", person, code, vin[:16] + ("0" if vin[16] != "0" else "1"))
    assert found[VIN] == [vin]
    assert found[ID] == [person]
    assert found[CREDIT] == [code]


def test_vin_misread_letters_are_fixed_only_inside_a_code() -> None:
    vin = make_vin(8)
    assert types(vin.replace("0", "O"))[VIN] == [vin]


def test_a_seller_code_is_never_a_resident_id() -> None:
    # "91…" is no province: a credit code that happens to be all digits cannot pass as an ID number.
    found = types(make_credit_code(12))
    assert ID not in found


@pytest.mark.parametrize(
    "text", ["2023年05月12日", "2023年5月12日", "2023-05-12", "2023.05.12", "2023/05/12", "20230512"]
)
def test_dates_in_every_printed_form(text: str) -> None:
    assert types(text)[DATE] == [dt.date(2023, 5, 12)]


def test_amounts_words_and_rates() -> None:
    found = types("¥158,000.00", "⊗" + amount_to_words(Decimal("158000")), "13%", "45%")
    assert found[AMOUNT] == [Decimal("158000.00")]
    assert found[WORDS] == [Decimal("158000")]
    assert found[RATE] == [13]


@pytest.mark.parametrize(
    "text",
    [
        "纳税人识别号",
        "纳税人识别亏",
        "第一联",
        "发票联",
        "购货单位付款凭证",
        "购货单位",
        "手写无效",
        "税控码",
        "备注",
        "名称：",
    ],
)
def test_labels_and_furniture_are_never_values(text: str) -> None:
    assert is_furniture(text)


@pytest.mark.parametrize("name", ["张三", "欧阳明华", "阿依古丽·买买提", "谭春"])
def test_names_are_not_furniture(name: str) -> None:
    assert not is_furniture(name)


def test_vocabulary_and_field_labels() -> None:
    assert "纳税人识别号" in VOCABULARY and "购货单位付款凭证" in VOCABULARY
    assert is_label_text("车辆识别代号/车架号码")
    assert str(FIELD_LABELS["amount_figures"]) == "价税合计（小写）"
    assert set(FIELDS) <= set(FIELD_LABELS)


# --- the buyer's name and ID in the three layout families --------------------------------------------------------


def _amount_lines(y: float) -> list[TextLine]:
    total = Decimal("158000.00")
    return [
        line("价税合计", 100, y),
        line("⊗" + amount_to_words(total), 420, y),
        line("小写", 1700, y),
        line("¥158000.00", 1850, y),
    ]


def test_label_above_value_in_its_cell() -> None:
    person = make_id_number()
    lines = [
        line("购买方名称", 100, 300, h=28),
        line("身份证号码/组织机构代码", 700, 300, h=28),
        line("纳税人识别号", 1400, 300, h=28),
        line("张三", 110, 345),
        line(person, 710, 345),
        line("车辆识别代号/车架号码", 100, 420, h=28),
        line(make_vin(3), 110, 465),
        *_amount_lines(560),
    ]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["buyer_name"].value == "张三" and fields["buyer_name"].confident
    assert fields["buyer_id_number"].value == person and fields["buyer_id_number"].confident
    assert fields["vin"].confident
    assert fields["amount_figures"].confident


def test_the_label_below_a_blank_value_is_not_the_name() -> None:
    # The individual buyer leaves 纳税人识别号 blank; the label itself must never become the name.
    lines = [
        line("购买方名称", 100, 300, h=28),
        line("纳税人识别号", 100, 345),
        line(make_id_number(), 700, 345),
    ]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["buyer_name"].value is None


def test_name_and_id_in_one_cell_with_margin_print() -> None:
    person = make_id_number()
    lines = [
        line("购买方名称及身份证号码/组织机构代码", 100, 300, h=26),
        line(f"李四  {person}", 500, 300),
        line("纳税人识别号", 1500, 300),
        *[line(ch, 2330, 200 + 40 * i) for i, ch in enumerate("第一联发票联购货单位付款凭证")],
        line("购货单位付款凭证", 2330, 300, h=300),
    ]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["buyer_name"].value == "李四" and fields["buyer_name"].confident
    assert fields["buyer_id_number"].value == person


def test_digital_blocks_side_by_side() -> None:
    person, code = make_id_number(), make_credit_code(9)
    lines = [
        line("名称：王五", 150, 230),
        line("名称：汾阳市晋汾汽车销售有限公司", 1080, 230),
        line(f"统一社会信用代码/纳税人识别号/身份证号码：{person}", 150, 310),
        line(f"统一社会信用代码/纳税人识别号：{code}", 1080, 310),
    ]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["buyer_name"].value == "王五" and fields["buyer_name"].confident
    assert fields["buyer_id_number"].value == person
    assert fields["seller_credit_code"].value == code


def test_a_name_without_the_buyer_id_beside_it_is_not_confident() -> None:
    lines = [line("购买方名称", 100, 300), line("张三", 400, 300), line(make_id_number(), 400, 1200)]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["buyer_name"].value == "张三"
    assert not fields["buyer_name"].confident


def test_two_different_ids_without_labels_are_unknown() -> None:
    lines = [line(make_id_number(seq=1), 100, 300), line(make_id_number(seq=2), 100, 600)]
    fields = read_fields("invoice", lines, "rapidocr")
    assert not fields["buyer_id_number"].confident
