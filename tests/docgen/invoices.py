"""机动车销售统一发票 in four layouts, drawn independently of the readers (tests and ``bench/`` only).

- ``cell``: every label printed small in the top-left corner of its cell, its value below it in the same cell.
- ``grid2015``: the 2015 paper form: label cells left of value cells, the buyer's name and ID number in one cell
  after 购买方名称及身份证号码/组织机构代码, a vertical margin print 第一联 发票联 购货单位付款凭证.
- ``digital2024``: 电子发票（机动车销售统一发票）: 购买方信息 and 销售方信息 blocks side by side with
  ``label：value`` lines, a vehicle table with labels above values, 价税合计（大写）/（小写）.
- ``ledger``: a dot-matrix print on a pre-printed form that has no ruling at all; labels followed by a colon
  and values at irregular gaps, several values wrapped to the next line, dates written with dots.

Values are printed with a dot-matrix offset (paper forms), in a font chosen per document, with a red seal over
the seller's rows and form furniture (手写无效, 税控码 cipher, margin print) where the real forms have them.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from PIL import Image

from ocr.numerals import amount_to_words

from .synthetic import (
    _BROWN,
    _DEALERS,
    _MODELS,
    _RED,
    _STREETS,
    _amount,
    _Canvas,
    _credit_code,
    _date,
    _id_number,
    _money,
    _name,
    _seal,
    _vin,
)

__all__ = ["HELD_OUT", "LAYOUTS", "invoice_truth", "render_invoice"]

LAYOUTS = ("cell", "grid2015", "digital2024", "ledger")
# Never tune the readers on this one: the benchmark reports it separately.
HELD_OUT = "ledger"

_GREEN = (40, 110, 70)
_BLUE_GREY = (70, 80, 110)


def invoice_truth(rng: random.Random, layout: str) -> dict[str, Any]:
    digital = layout == "digital2024"
    total = _amount(rng)
    rate = rng.choice((Decimal("13"), Decimal("13"), Decimal("13"), Decimal("9"), Decimal("3"), Decimal("1")))
    net = (total / (1 + rate / 100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    tax = total - net
    model, vtype, origin = rng.choice(_MODELS)
    number = f"{rng.randrange(10**19, 10**20)}" if digital else f"{rng.randrange(0, 10**8):08d}"
    date = _date(rng)
    if digital:
        number = f"{date.year % 100:02d}" + number[2:]
        date = date.replace(year=2024) if date.month != 2 or date.day < 29 else date
    return {
        "invoice_code": None
        if digital
        else f"1{rng.choice(('14', '41', '31'))}00{rng.randrange(0, 10**7):07d}",
        "invoice_number": number,
        "invoice_date": date,
        "buyer_name": _name(rng),
        "buyer_id_number": _id_number(rng),
        "vin": _vin(rng),
        "amount_words": total,
        "amount_figures": total,
        "net_amount": net,
        "tax_amount": tax,
        "tax_rate": f"{rate}%",
        "seller_name": rng.choice(_DEALERS),
        "seller_credit_code": _credit_code(rng),
        "_model": model,
        "_vehicle_type": vtype,
        "_origin": origin,
        "_engine_no": f"{rng.choice('ABCDEFGHJK')}{rng.randrange(10**6, 10**7)}",
        "_cert_no": f"W{rng.choice('ABCDE')}{rng.randrange(10**12, 10**13)}",
        "_machine_no": f"{rng.randrange(10**11, 10**12)}",
        "_phone": f"0358-72{rng.randrange(10000, 99999)}",
        "_account": f"{rng.randrange(10**15, 10**16)}",
        "_address": rng.choice(_STREETS) + f"{rng.randrange(1, 300)}号",
        "_drawer": _name(rng),
    }


def _date_text(rng: random.Random, date: dt.date, forms: tuple[str, ...]) -> str:
    form = rng.choice(forms)
    if form == "cjk":
        return f"{date.year}年{date.month:02d}月{date.day:02d}日"
    if form == "cjk_short":
        return f"{date.year}年{date.month}月{date.day}日"
    if form == "dash":
        return f"{date:%Y-%m-%d}"
    if form == "dot":
        return f"{date:%Y.%m.%d}"
    return f"{date:%Y%m%d}"


def _cipher(rng: random.Random, n: int = 38) -> str:
    return "".join(rng.choice("0123456789<>+-*/") for _ in range(n))


def _vertical(c: _Canvas, x: int, y: int, text: str, size: int, fill=_BROWN, gap: float = 1.15) -> None:
    """Characters stacked top to bottom (margin print, block titles)."""
    for i, ch in enumerate(text):
        if ch == " ":
            continue
        c.label((x, int(y + i * size * gap)), ch, size, fill=fill, anchor="mm")


def _box(c: _Canvas, x0, y0, x1, y1, color=_BROWN, width=2) -> None:
    c.draw.rectangle((x0, y0, x1, y1), outline=color, width=width)


def _words(rng: random.Random, total: Decimal) -> str:
    return amount_to_words(total, unit=rng.choice(("圆", "元")))


# --- layout: label above value in its cell ----------------------------------------------------------------------


def _render_cell(rng: random.Random, t: dict[str, Any]) -> Image.Image:
    width, height = 2480, 1748
    c = _Canvas((width, height), rng)
    ox, oy = rng.randint(-10, 25), rng.randint(-6, 10)
    color = rng.choice((_BROWN, _GREEN, _BLUE_GREY))
    c.label((width // 2, 80), "机动车销售统一发票", 80, fill=color, anchor="mm")
    c.label((width // 2, 160), "发票联", 42, fill=color, anchor="mm")
    ls, vs = rng.choice(((26, 40), (24, 38), (28, 42)))
    left, right = 100, 2380
    rows = [
        [
            ("发票代码", t["invoice_code"], 0.34),
            ("发票号码", t["invoice_number"], 0.33),
            ("开票日期", _date_text(rng, t["invoice_date"], ("cjk", "dash", "cjk_short")), 0.33),
        ],
        [
            ("机打代码", t["invoice_code"], 0.25),
            ("机打号码", t["invoice_number"], 0.2),
            ("机器编号", t["_machine_no"], 0.2),
            ("税控码", _cipher(rng, 30), 0.35),
        ],
    ]
    together = rng.random() < 0.5
    if together:
        rows.append(
            [
                ("购买方名称及身份证号码/组织机构代码", f"{t['buyer_name']}   {t['buyer_id_number']}", 0.62),
                ("纳税人识别号", "", 0.38),
            ]
        )
    else:
        rows.append(
            [
                ("购买方名称", t["buyer_name"], 0.3),
                ("身份证号码/组织机构代码", t["buyer_id_number"], 0.36),
                ("纳税人识别号", "", 0.34),
            ]
        )
    rows += [
        [
            ("车辆类型", t["_vehicle_type"], 0.25),
            ("厂牌型号", t["_model"], 0.45),
            ("产地", t["_origin"], 0.3),
        ],
        [("合格证号", t["_cert_no"], 0.34), ("进口证明书号", "", 0.33), ("商检单号", "", 0.33)],
        [("发动机号码", t["_engine_no"], 0.35), ("车辆识别代号/车架号码", t["vin"], 0.65)],
        [
            ("价税合计", "⊗" + _words(rng, t["amount_figures"]), 0.7),
            ("小写", f"¥{_money(t['amount_figures'])}", 0.3),
        ],
        [("销货单位名称", t["seller_name"], 0.6), ("电话", t["_phone"], 0.4)],
        [("纳税人识别号", t["seller_credit_code"], 0.6), ("账号", t["_account"], 0.4)],
        [("地址", t["_address"], 0.6), ("开户银行", "中国农业银行汾阳支行", 0.4)],
        [
            ("增值税税率或征收率", t["tax_rate"], 0.25),
            ("增值税税额", f"¥{_money(t['tax_amount'])}", 0.3),
            ("主管税务机关及代码", "国家税务总局汾阳市税务局 11411820", 0.45),
        ],
        [
            ("不含税价", f"小写 ¥{_money(t['net_amount'])}", 0.35),
            ("完税凭证号码", "", 0.3),
            ("吨位", "", 0.15),
            ("限乘人数", "5", 0.2),
        ],
    ]
    top, row_h = 210, 108
    seller_y = 0
    for r, cells in enumerate(rows):
        y0 = top + r * row_h
        x = left
        for label, value, frac in cells:
            w = (right - left) * frac
            _box(c, x, y0, x + w, y0 + row_h, color)
            c.label((x + 12, y0 + 22), label, ls, fill=color)
            if value:
                c.text((x + 24 + ox, y0 + 70 + oy), value, vs)
            x += w
        if cells[0][0] == "销货单位名称":
            seller_y = y0
    bottom = top + len(rows) * row_h
    c.label((140, bottom + 50), "销货单位盖章", 30, fill=color)
    c.label((1000, bottom + 50), "开票人", 30, fill=color)
    c.text((1110, bottom + 50), t["_drawer"], 34)
    c.label((1600, bottom + 50), "备注", 30, fill=color)
    c.label((2200, bottom + 50), "手写无效", 30, fill=color)
    _seal(
        c.image,
        (rng.randint(700, 1200), seller_y + row_h + rng.randint(-30, 30)),
        (250, 170),
        t["seller_name"],
        t["seller_credit_code"],
        rng,
    )
    return c.image


# --- layout: the 2015 paper grid --------------------------------------------------------------------------------


def _render_grid2015(rng: random.Random, t: dict[str, Any]) -> Image.Image:
    width, height = 2480, 1748
    c = _Canvas((width, height), rng)
    ox, oy = rng.randint(-20, 40), rng.randint(-18, 18)
    color = _BROWN
    c.label((1180, 90), "机动车销售统一发票", 84, fill=color, anchor="mm")
    c.label((1180, 170), "发  票  联", 44, fill=color, anchor="mm")
    c.label((130, 250), "开票日期", 34, fill=color)
    c.text((310 + ox, 250 + oy), _date_text(rng, t["invoice_date"], ("dash", "cjk", "plain")), 38)
    c.label((1550, 210), "发票代码", 34, fill=color)
    c.text((1720, 210), t["invoice_code"], 40, fill=color)
    c.label((1550, 268), "发票号码", 34, fill=color)
    c.text((1720, 268), t["invoice_number"], 40, fill=_RED)
    left, right, top, row_h = 100, 2250, 310, 96
    n_rows = 13
    _box(c, left, top, right, top + n_rows * row_h, color, 4)
    for i in range(1, n_rows):
        c.draw.line((left, top + i * row_h, right, top + i * row_h), fill=color, width=2)

    def cy(i: int) -> int:
        return top + i * row_h + row_h // 2

    def vl(x, r0, r1=None):
        r1 = r0 + 1 if r1 is None else r1
        c.draw.line((x, top + r0 * row_h, x, top + r1 * row_h), fill=color, width=2)

    def lab(x, r, text, size=30):
        c.label((x, cy(r)), text, size, fill=color)

    def val(x, r, text, size=38):
        c.text((x + ox, cy(r) + oy), text, size)

    lab(115, 0, "机打代码")
    val(330, 0, t["invoice_code"])
    lab(115, 1, "机打号码")
    val(330, 1, t["invoice_number"])
    lab(115, 2, "机器编号")
    val(330, 2, t["_machine_no"])
    vl(310, 0, 3)
    vl(900, 0, 3)
    _vertical(c, 935, top + 60, "税控码", 30)
    for k in range(3):
        c.text((990, cy(k)), _cipher(rng, 42), 34)
    lab(115, 3, "购买方名称及身份证号码/", 24)
    c.label((115, cy(3) + 26), "组织机构代码", 24, fill=color)
    vl(450, 3)
    val(470, 3, f"{t['buyer_name']}  {t['buyer_id_number']}")
    vl(1500, 3)
    lab(1515, 3, "纳税人识别号")
    vl(1740, 3)
    lab(115, 4, "车辆类型")
    val(330, 4, t["_vehicle_type"])
    vl(310, 4)
    vl(800, 4)
    lab(815, 4, "厂牌型号")
    val(1000, 4, t["_model"])
    vl(1700, 4)
    lab(1715, 4, "产地")
    val(1830, 4, t["_origin"])
    lab(115, 5, "合格证号")
    val(330, 5, t["_cert_no"])
    vl(310, 5)
    vl(900, 5)
    lab(915, 5, "进口证明书号")
    vl(1500, 5)
    lab(1515, 5, "商检单号")
    lab(115, 6, "发动机号码")
    val(330, 6, t["_engine_no"])
    vl(310, 6)
    vl(900, 6)
    lab(915, 6, "车辆识别代号/车架号码")
    vl(1310, 6)
    val(1340, 6, t["vin"])
    lab(115, 7, "价税合计")
    vl(310, 7)
    val(340, 7, "⊗" + _words(rng, t["amount_figures"]))
    vl(1650, 7)
    lab(1665, 7, "小写")
    val(1780, 7, f"¥{_money(t['amount_figures'])}")
    seller_row = 8
    lab(115, 8, "销货单位名称")
    val(420, 8, t["seller_name"])
    vl(400, 8)
    vl(1420, 8)
    lab(1435, 8, "电话")
    val(1560, 8, t["_phone"])
    lab(115, 9, "纳税人识别号")
    val(420, 9, t["seller_credit_code"])
    vl(400, 9)
    vl(1420, 9)
    lab(1435, 9, "账号")
    val(1560, 9, t["_account"])
    lab(115, 10, "地址")
    val(420, 10, t["_address"])
    vl(400, 10)
    vl(1420, 10)
    lab(1435, 10, "开户银行")
    val(1620, 10, "中国建设银行汾阳支行")
    lab(115, 11, "增值税税率", 26)
    c.label((115, cy(11) + 26), "或征收率", 26, fill=color)
    val(330, 11, t["tax_rate"])
    vl(310, 11)
    vl(560, 11)
    lab(575, 11, "增值税税额")
    val(780, 11, f"¥{_money(t['tax_amount'])}")
    vl(1420, 11)
    lab(1435, 11, "主管税务机关及代码", 26)
    val(1700, 11, "汾阳市税务局 11411820", 32)
    lab(115, 12, "不含税价")
    vl(310, 12)
    lab(330, 12, "小写")
    val(430, 12, f"¥{_money(t['net_amount'])}")
    vl(900, 12)
    lab(915, 12, "完税凭证号码")
    vl(1500, 12)
    lab(1515, 12, "吨位")
    vl(1800, 12)
    lab(1815, 12, "限乘人数")
    val(2050, 12, "5")
    bottom = top + n_rows * row_h
    c.label((130, bottom + 55), "销货单位盖章", 32, fill=color)
    c.label((900, bottom + 55), "开票人", 32, fill=color)
    c.text((1020, bottom + 55), t["_drawer"], 34)
    c.label((1400, bottom + 55), "备注：一车一票", 32, fill=color)
    c.label((1950, bottom + 55), "手写无效", 32, fill=color)
    # the vertical margin print on the right edge
    _vertical(c, 2330, top + 40, "第一联 发票联 购货单位付款凭证", 36, fill=color)
    _seal(
        c.image,
        (rng.randint(600, 1150), cy(seller_row + 1) + rng.randint(-40, 40)),
        (260, 175),
        t["seller_name"],
        t["seller_credit_code"],
        rng,
    )
    return c.image


# --- layout: the fully digital 2024 invoice ---------------------------------------------------------------------


def _render_digital2024(rng: random.Random, t: dict[str, Any]) -> Image.Image:
    width, height = 2480, 1654
    c = _Canvas((width, height), rng, paper=(255, 255, 255))
    color = rng.choice(((150, 70, 40), (120, 60, 30)))
    c.label((width // 2, 95), "电子发票（机动车销售统一发票）", 66, fill=color, anchor="mm")
    c.draw.line((width // 2 - 520, 150, width // 2 + 520, 150), fill=color, width=3)
    c.draw.line((width // 2 - 520, 160, width // 2 + 520, 160), fill=color, width=3)
    # the supervision seal printed over the title
    _seal(c.image, (width // 2, 110), (190, 120), "全国统一发票监制", "国家税务总局", rng)
    c.label((1820, 90), "发票号码：", 32, fill=color)
    c.text((1990, 90), t["invoice_number"], 34)
    c.label((1820, 150), "开票日期：", 32, fill=color)
    c.text((1990, 150), _date_text(rng, t["invoice_date"], ("cjk",)), 34)
    left, right, top = 90, 2390, 220
    mid = (left + right) // 2
    block_h = 250
    _box(c, left, top, right, top + block_h, color, 3)
    c.draw.line((mid, top, mid, top + block_h), fill=color, width=2)
    for x in (left + 70, mid + 70):
        c.draw.line((x, top, x, top + block_h), fill=color, width=2)
    _vertical(c, left + 35, top + 40, "购买方信息", 34, fill=color, gap=1.3)
    _vertical(c, mid + 35, top + 40, "销售方信息", 34, fill=color, gap=1.3)
    c.label((left + 95, top + 70), "名称：", 32, fill=color)
    c.text((left + 200, top + 70), t["buyer_name"], 36)
    c.label((left + 95, top + 170), "统一社会信用代码/纳税人识别号/身份证号码：", 28, fill=color)
    c.text((left + 700, top + 170), t["buyer_id_number"], 34)
    c.label((mid + 95, top + 70), "名称：", 32, fill=color)
    c.text((mid + 200, top + 70), t["seller_name"], 36)
    c.label((mid + 95, top + 170), "统一社会信用代码/纳税人识别号：", 28, fill=color)
    c.text((mid + 560, top + 170), t["seller_credit_code"], 34)
    # vehicle table: labels above values
    y = top + block_h
    heads = [
        ("车辆类型", t["_vehicle_type"], 0.12),
        ("厂牌型号", t["_model"], 0.22),
        ("产地", t["_origin"], 0.08),
        ("合格证号", t["_cert_no"], 0.18),
        ("车辆识别代号/车架号码", t["vin"], 0.25),
        ("发动机号码", t["_engine_no"], 0.15),
    ]
    x = left
    for label, value, frac in heads:
        w = (right - left) * frac
        _box(c, x, y, x + w, y + 170, color)
        c.label((x + w / 2, y + 45), label, 26, fill=color, anchor="mm")
        c.text((x + w / 2, y + 120), value, 32, anchor="mm")
        x += w
    y += 170
    cols = [
        ("项目名称", 0.22),
        ("规格型号", 0.14),
        ("单位", 0.06),
        ("数量", 0.06),
        ("单价", 0.12),
        ("金额", 0.14),
        ("税率/征收率", 0.12),
        ("税额", 0.14),
    ]
    item_values = [
        f"*机动车*{t['_vehicle_type']}",
        t["_model"][-10:],
        "辆",
        "1",
        _money(t["net_amount"]),
        _money(t["net_amount"]),
        t["tax_rate"],
        _money(t["tax_amount"]),
    ]
    _box(c, left, y, right, y + 360, color, 3)
    x = left
    for (label, frac), value in zip(cols, item_values, strict=True):
        w = (right - left) * frac
        c.label((x + w / 2, y + 40), label, 28, fill=color, anchor="mm")
        c.text((x + w / 2, y + 110), value, 32, anchor="mm")
        x += w
    c.label((left + 120, y + 310), "合计", 30, fill=color, anchor="mm")
    c.text((left + (right - left) * 0.74 - 10, y + 310), f"¥{_money(t['net_amount'])}", 32, anchor="rm")
    c.text((right - 20, y + 310), f"¥{_money(t['tax_amount'])}", 32, anchor="rm")
    y += 360
    _box(c, left, y, right, y + 100, color, 3)
    c.label((left + 30, y + 50), "价税合计（大写）", 30, fill=color)
    c.text((left + 330, y + 50), "⊗" + _words(rng, t["amount_figures"]), 36)
    c.label((1700, y + 50), "（小写）", 30, fill=color)
    c.text((1830, y + 50), f"¥{_money(t['amount_figures'])}", 36)
    y += 100
    _box(c, left, y, right, y + 160, color, 3)
    _vertical(c, left + 35, y + 40, "备注", 30, fill=color, gap=1.6)
    c.text((left + 100, y + 60), f"发动机号码：{t['_engine_no']}  限乘人数：5", 28)
    c.label((left + 30, y + 220), "开票人：", 30, fill=color)
    c.text((left + 160, y + 220), t["_drawer"], 32)
    return c.image


# --- layout: an unruled dot-matrix print ------------------------------------------------------------------------


def _render_ledger(rng: random.Random, t: dict[str, Any]) -> Image.Image:
    width, height = 2480, 1748
    paper = (246, 246, 238)
    c = _Canvas((width, height), rng, paper=paper)
    color = rng.choice((_BLUE_GREY, _GREEN))
    c.label((width // 2, 110), "机动车销售统一发票", 76, fill=color, anchor="mm")
    c.label((width // 2, 190), "(发票联)", 38, fill=color, anchor="mm")
    ox, oy = rng.randint(-25, 25), rng.randint(-12, 12)
    lsz, vsz = 32, rng.choice((36, 40))

    def pair(x, y, label, value, gap=None):
        c.label((x, y), label + "：", lsz, fill=color)
        if value:
            lw = c.text_width(label + "：", lsz, font=c.label_font)
            c.text((x + lw + (gap if gap is not None else rng.randint(6, 60)) + ox, y + oy), value, vsz)

    date = _date_text(rng, t["invoice_date"], ("dot", "cjk_short", "dash"))
    pair(150, 290, "发票代码", t["invoice_code"])
    pair(900, 290, "发票号码", t["invoice_number"])
    pair(1650, 290, "开票日期", date)
    pair(150, 380, "机器编号", t["_machine_no"])
    c.label((900, 380), "税控码：", lsz, fill=color)
    c.text((1060, 380), _cipher(rng, 44), 32)
    pair(150, 500, "购买方名称", t["buyer_name"])
    pair(1100, 500, "身份证号码/组织机构代码", t["buyer_id_number"])
    pair(150, 590, "车辆类型", t["_vehicle_type"])
    pair(800, 590, "厂牌型号", t["_model"])
    pair(1800, 590, "产地", t["_origin"])
    pair(150, 680, "合格证号", t["_cert_no"])
    pair(1100, 680, "发动机号码", t["_engine_no"])
    c.label((150, 770), "车辆识别代号/车架号码：", lsz, fill=color)
    c.text((200 + ox, 840 + oy), t["vin"], vsz)
    c.label((150, 950), "价税合计(大写)：", lsz, fill=color)
    c.text((420 + ox, 950 + oy), _words(rng, t["amount_figures"]), vsz)
    c.label((1650, 950), "(小写)：", lsz, fill=color)
    c.text((1790 + ox, 950 + oy), f"¥{_money(t['amount_figures'])}", vsz)
    pair(150, 1040, "不含税价", f"¥{_money(t['net_amount'])}")
    pair(800, 1040, "增值税税率或征收率", t["tax_rate"])
    pair(1550, 1040, "增值税税额", f"¥{_money(t['tax_amount'])}")
    pair(150, 1160, "销货单位名称", t["seller_name"])
    pair(1450, 1160, "电话", t["_phone"])
    c.label((150, 1250), "纳税人识别号：", lsz, fill=color)
    c.text((200 + ox, 1320 + oy), t["seller_credit_code"], vsz)
    pair(1450, 1250, "账号", t["_account"])
    pair(150, 1410, "地址", t["_address"])
    pair(1450, 1410, "开户银行", "中国银行汾阳支行")
    c.label((150, 1560), "销货单位(章)", 30, fill=color)
    pair(1000, 1560, "开票人", t["_drawer"])
    c.label((1800, 1560), "备注：", 30, fill=color)
    _vertical(c, 60, 420, "第一联发票联", 30, fill=color)
    _seal(
        c.image,
        (rng.randint(500, 1000), 1290 + rng.randint(-30, 30)),
        (240, 165),
        t["seller_name"],
        t["seller_credit_code"],
        rng,
    )
    return c.image


_RENDERERS = {
    "cell": _render_cell,
    "grid2015": _render_grid2015,
    "digital2024": _render_digital2024,
    "ledger": _render_ledger,
}


def render_invoice(rng: random.Random, truth: dict[str, Any], layout: str) -> Image.Image:
    try:
        renderer = _RENDERERS[layout]
    except KeyError:
        raise ValueError(f"unknown invoice layout {layout}") from None
    return renderer(rng, truth)
