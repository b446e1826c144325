"""Confidence rules on hand-made OCR lines (no engine needed)."""

from decimal import Decimal

from PIL import Image

from ocr.engines import TesseractEngine, TextLine
from ocr.numerals import amount_to_words
from ocr.readers import read_fields
from ocr.readers.base import FieldReading
from ocr.readers.invoice import amount_consensus, rate_check
from ocr.reading import merge_readings, second_reading
from tests.factories import make_credit_code, make_id_number, make_vin


def line(text: str, x: float, y: float, conf: float = 0.99, engine: str = "rapidocr") -> TextLine:
    w, h = 24 * len(text), 40
    return TextLine(text, conf, ((x, y), (x + w, y), (x + w, y + h), (x, y + h)), engine)


def invoice_lines(
    total: str = "158000.00",
    words: str | None = None,
    net: str = "139823.01",
    tax: str = "18176.99",
    buyer_id_label: bool = True,
    buyer_id: str | None = None,
    seller_code: str | None = None,
    engine: str = "rapidocr",
) -> list[TextLine]:
    buyer_id = buyer_id or make_id_number()
    seller_code = seller_code or make_credit_code(3)
    words = words if words is not None else "⊗" + amount_to_words(Decimal(total))
    rows = [
        [("开票日期", 100), ("2023年05月12日", 300), ("发票代码", 1600), ("141002300111", 1800)],
        [("发票号码", 1600), ("01234567", 1800)],
        [("机打代码", 100), ("141002300111", 400)],
        [("机打号码", 100), ("01234567", 400)],
        [("购买方名称", 100), ("张三", 400)]
        + ([("纳税人识别号/统一社会信用代码/身份证号码", 1000)] if buyer_id_label else [])
        + [(buyer_id, 1640)],
        [("发动机号码", 100), ("A1234567", 400), ("车辆识别代号/车架号码", 1000), (make_vin(5), 1450)],
        [("价税合计", 100), (words, 420), ("小写", 1700), (f"¥{total}", 1850)],
        [("销货单位名称", 100), ("汾阳市晋汾汽车销售有限公司", 420)],
        [("纳税人识别号/统一社会信用代码", 100), (seller_code, 620)],
        [("增值税税率或征收率", 100), ("13%", 450), ("增值税税额", 700), (f"¥{tax}", 900)],
        [("不含税价", 100), ("小写", 420), (f"¥{net}", 520)],
    ]
    out = []
    for i, row in enumerate(rows):
        for text, x in row:
            out.append(line(text, x, 200 + 92 * i, engine=engine))
    return out


def test_words_and_figures_agree_gives_confident_amount() -> None:
    fields = read_fields("invoice", invoice_lines(), "rapidocr")
    assert fields["amount_figures"].value == Decimal("158000.00")
    assert fields["amount_figures"].confident
    assert fields["amount_words"].confident
    assert fields["net_amount"].confident and fields["tax_amount"].confident


def test_words_disagreeing_with_figures_is_not_confident() -> None:
    # 大写 says 150,000, ¥ says 158,000, and the tax line is unreadable: no two readings agree.
    lines = [
        ln
        for ln in invoice_lines(words="⊗壹拾伍万圆整")
        if not ln.text.startswith("¥1") or ln.text == "¥158000.00"
    ]
    lines = [ln for ln in lines if ln.text not in ("¥139823.01", "¥18176.99")]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["amount_figures"].value == Decimal("158000.00")
    assert not fields["amount_figures"].confident
    assert fields["amount_words"].value == Decimal("150000")
    assert not fields["amount_words"].confident


def test_sum_and_rate_confirm_figures_when_words_unreadable() -> None:
    fields = read_fields("invoice", invoice_lines(words="⊗壹拾伍万捌圆"), "tesseract")
    assert fields["amount_words"].value is None
    assert fields["amount_figures"].confident  # 139823.01 + 18176.99 = 158000.00 and 18176.99 = 13/113 of it


def test_dropped_leading_digit_in_total_and_net_is_not_confirmed() -> None:
    # The Tesseract failure from the notes: 174744.46 / 154641.12 read as 74744.46 / 54641.12.
    assert rate_check(Decimal("74744.46"), Decimal("54641.12"), Decimal("20103.34")) is None
    value, agreeing = amount_consensus(Decimal("74744.46"), None, Decimal("54641.12"), Decimal("20103.34"))
    assert value is None and not agreeing


def test_two_engines_agreeing_make_a_field_confident() -> None:
    a = {"amount_figures": FieldReading(Decimal("158000.00"), 0.9, False, "rapidocr")}
    b = {"amount_figures": FieldReading(Decimal("158000.00"), 0.8, False, "tesseract")}
    merged = merge_readings("pos_slip", [a, b])
    assert merged["amount_figures"].confident


def test_two_engines_confidently_disagreeing_is_not_confident() -> None:
    a = {"vin": FieldReading("A", 0.99, True, "rapidocr")}
    b = {"vin": FieldReading("B", 0.99, True, "tesseract")}
    assert not merge_readings("vehicle_license", [a, b])["vin"].confident


def test_seller_credit_code_never_taken_as_buyer_id() -> None:
    # The buyer's ID label and value are unreadable; the seller's 18-character code must not become the buyer ID.
    # The ID comes from a shared counter, so it may end in "X": drop it by its value, not by its digits.
    buyer_id = make_id_number()
    lines = [ln for ln in invoice_lines(buyer_id_label=False, buyer_id=buyer_id) if ln.text != buyer_id]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["buyer_id_number"].value is None
    assert fields["seller_credit_code"].value is not None


def test_buyer_id_with_bad_checksum_is_not_confident() -> None:
    good = make_id_number()
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    fields = read_fields("invoice", invoice_lines(buyer_id=bad), "rapidocr")
    assert fields["buyer_id_number"].value == bad
    assert not fields["buyer_id_number"].confident


def test_low_ocr_confidence_is_not_confident() -> None:
    lines = [TextLine(ln.text, 0.5, ln.box, ln.engine) for ln in invoice_lines()]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["vin"].value and not fields["vin"].confident
    assert fields["buyer_name"].value == "张三" and not fields["buyer_name"].confident


def test_total_row_found_by_its_words_when_the_label_is_unreadable() -> None:
    lines = [ln for ln in invoice_lines() if ln.text != "价税合计"]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["amount_figures"].value == Decimal("158000.00")
    assert fields["amount_figures"].confident


def test_net_and_tax_found_by_elimination_when_labels_unreadable() -> None:
    lines = [ln for ln in invoice_lines(words="⊗壹拾伍万捌圆") if ln.text not in ("不含税价", "增值税税额")]
    fields = read_fields("invoice", lines, "tesseract")
    assert fields["net_amount"].value == Decimal("139823.01")
    assert fields["tax_amount"].value == Decimal("18176.99")
    assert fields["amount_figures"].confident


class _LineReader(TesseractEngine):
    """A second engine that reads every cropped line as the given text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.calls = 0

    def read_line(self, image, timeout=None, lang=None) -> str:
        self.calls += 1
        return self.text


def _unconfident_name() -> tuple[list[TextLine], dict]:
    lines = [
        TextLine(ln.text, 0.9 if ln.text == "张三" else ln.confidence, ln.box, ln.engine)
        for ln in invoice_lines()
    ]
    fields = read_fields("invoice", lines, "rapidocr")
    assert fields["buyer_name"].value == "张三" and not fields["buyer_name"].confident
    return lines, fields


def test_second_engine_reading_the_same_line_makes_it_confident() -> None:
    lines, fields = _unconfident_name()
    engine = _LineReader("张 三")
    assert second_reading("invoice", Image.new("RGB", (2400, 1400), "white"), lines, fields, engine)
    assert fields["buyer_name"].confident and fields["buyer_name"].engine == "rapidocr+tesseract"
    assert engine.calls == 1  # only the field that was not confident is read again, and agreed at once


def test_second_engine_reading_something_else_changes_nothing() -> None:
    lines, fields = _unconfident_name()
    second_reading("invoice", Image.new("RGB", (2400, 1400), "white"), lines, fields, _LineReader("张王"))
    assert fields["buyer_name"].value == "张三" and not fields["buyer_name"].confident
