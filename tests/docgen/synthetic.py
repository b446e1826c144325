"""Synthetic documents in the layouts of the real ones, with their ground truth (tests and ``bench/``).

``generate(kind, seed, condition)`` draws random but valid data (IDs, VINs and credit codes with correct check
characters, consistent amounts and tax), renders the document with one of several CJK fonts and applies the
requested damage.  Conditions: ``clean``, ``rotation``, ``blur``, ``noise``, ``jpeg``, ``lowres``, ``uneven``,
and ``degraded`` (all of them at once, as in a phone photo).

Fonts come from the Debian packages fonts-noto-cjk, fonts-wqy-zenhei, fonts-wqy-microhei, fonts-arphic-uming and
fonts-arphic-ukai; the generator uses whichever of them are installed.
"""

from __future__ import annotations

import datetime as dt
import io
import math
import random
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from ocr.validators import CREDIT_CHARS, credit_code_check_char, id_check_char, vin_check_char

__all__ = ["CONDITIONS", "KINDS", "SyntheticDocument", "available_fonts", "degrade"]

KINDS = ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip")
CONDITIONS = ("clean", "rotation", "blur", "noise", "jpeg", "lowres", "uneven", "degraded", "photo")

# (path, face index) of CJK fonts, in order of preference.
_FONT_CANDIDATES: list[tuple[str, int]] = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", 2),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
    ("/usr/share/fonts/truetype/arphic/ukai.ttc", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 7),  # Noto Sans Mono CJK SC
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 1),  # Zen Hei Mono
]


@lru_cache(maxsize=1)
def available_fonts() -> tuple[tuple[str, int], ...]:
    found = []
    for path, index in _FONT_CANDIDATES:
        if Path(path).exists():
            try:
                ImageFont.truetype(path, 20, index=index)
            except OSError:
                continue
            found.append((path, index))
    if not found:
        raise RuntimeError("no CJK font installed (apt-get install fonts-noto-cjk fonts-wqy-zenhei)")
    return tuple(found)


@lru_cache(maxsize=256)
def _font(path: str, index: int, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, index=index)


@dataclass
class SyntheticDocument:
    kind: str
    condition: str
    image: Image.Image
    truth: dict[str, Any]
    seed: int
    texts: list[tuple[float, float, str, int, str]] = field(default_factory=list)
    layout: str = ""

    def to_pdf(self, text_layer: bool = True, kangxi: bool = False) -> bytes:
        """A one-page PDF: with a text layer (as e-invoices are issued), or the image only (a scan)."""
        if not text_layer:
            buf = io.BytesIO()
            self.image.convert("RGB").save(buf, "PDF", resolution=300.0)
            return buf.getvalue()
        return _text_pdf(self.image.size, self.texts, kangxi=kangxi)

    def to_bytes(self, fmt: str = "PNG", quality: int = 92) -> tuple[bytes, str]:
        buf = io.BytesIO()
        if fmt.upper() in ("JPEG", "JPG"):
            self.image.convert("RGB").save(buf, "JPEG", quality=quality)
            return buf.getvalue(), "image/jpeg"
        self.image.save(buf, "PNG")
        return buf.getvalue(), "image/png"


# --- random data ------------------------------------------------------------------------------------------------

_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国志红玉兰文斌俊峰海燕晨宇浩然子轩欣怡梓涵雨泽博文思远佳琪嘉怡晓东立新永刚春梅冬梅振华国强"
_REGIONS = ["141182", "141102", "140105", "140109", "141121", "141125", "140106"]
_WMIS = ["LSV", "LFV", "LGW", "LVS", "LHG", "LFM", "LGB", "LBV", "LDC", "LNB", "LGX", "LC0", "LS5", "LZW"]
_MODELS = [
    ("大众汽车牌SVW7141BPV", "轿车", "上海"),
    ("比亚迪牌BYD7005BEV", "轿车", "西安"),
    ("长城牌CC6470BH22A", "多用途乘用车", "保定"),
    ("吉利牌MR7153A01", "轿车", "宁波"),
    ("丰田牌TV7250HEV", "轿车", "广州"),
    ("五菱牌LZW7001EVAM", "轿车", "柳州"),
    ("哈弗牌CC6460RM0A", "多用途乘用车", "重庆"),
    ("本田牌HG7152AAC6", "轿车", "武汉"),
]
_DEALERS = [
    "汾阳市晋汾汽车销售有限公司",
    "汾阳市杏花村汽车贸易有限公司",
    "吕梁市宏达汽车销售服务有限公司",
    "汾阳市鑫通达汽车销售有限公司",
    "山西汾州汽车贸易有限公司",
]
_STREETS = ["汾阳市文峰街道", "汾阳市太和桥街道", "汾阳市杏花村镇", "汾阳市贾家庄镇", "汾阳市三泉镇"]


def _name(rng: random.Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2, 2))))


def _id_number(rng: random.Random) -> str:
    birth = dt.date(1960, 1, 1) + dt.timedelta(days=rng.randrange(0, 16000))
    first17 = f"{rng.choice(_REGIONS)}{birth:%Y%m%d}{rng.randrange(0, 1000):03d}"
    return first17 + id_check_char(first17)


def _vin(rng: random.Random) -> str:
    chars = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
    vds = "".join(rng.choice(chars) for _ in range(5))
    year = rng.choice("NPR")  # 2022-2024
    body = f"{rng.choice(_WMIS)}{vds}0{year}{rng.choice(chars)}{rng.randrange(0, 1000000):06d}"
    return body[:8] + vin_check_char(body) + body[9:]


def _credit_code(rng: random.Random) -> str:
    body = "91" + rng.choice(_REGIONS) + "".join(rng.choice(CREDIT_CHARS) for _ in range(9))
    return body + credit_code_check_char(body)


def _date(rng: random.Random) -> dt.date:
    return dt.date(2023, 4, 28) + dt.timedelta(days=rng.randrange(0, 300))


def _amount(rng: random.Random) -> Decimal:
    # Mostly whole yuan like real car prices, sometimes with 角/分.
    yuan = rng.randrange(25000, 420000)
    if rng.random() < 0.35:
        yuan = yuan // 100 * 100
    cents = rng.choice((0, 0, 0, rng.randrange(1, 100), rng.randrange(1, 10) * 10))
    return (Decimal(yuan) + Decimal(cents) / 100).quantize(Decimal("0.01"))


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


# --- drawing helpers --------------------------------------------------------------------------------------------

_BROWN = (150, 88, 44)
_BLACK = (18, 18, 22)
_RED = (222, 40, 40)
_PAPER = (250, 248, 242)


_LAST_TEXTS: list = []


class _Canvas:
    def __init__(self, size: tuple[int, int], rng: random.Random, paper=_PAPER) -> None:
        self.texts: list[tuple[float, float, str, int, str]] = []
        _LAST_TEXTS[:] = [self.texts]
        self.image = Image.new("RGB", size, paper)
        self.draw = ImageDraw.Draw(self.image)
        self.rng = rng
        fonts = available_fonts()
        self.label_font = rng.choice(fonts)
        self.value_font = rng.choice(fonts)

    def text(self, xy, text: str, size: int, fill=_BLACK, font=None, anchor="lm") -> None:
        path, index = font or self.value_font
        self.draw.text(xy, text, font=_font(path, index, size), fill=fill, anchor=anchor)
        width = _font(path, index, size).getlength(text)
        x = xy[0] - (width / 2 if anchor[0] == "m" else 0)
        self.texts.append((x, xy[1], text, size, anchor))

    def label(self, xy, text: str, size: int, fill=_BROWN, anchor="lm") -> None:
        self.text(xy, text, size, fill=fill, font=self.label_font, anchor=anchor)

    def text_width(self, text: str, size: int, font=None) -> float:
        path, index = font or self.value_font
        return _font(path, index, size).getlength(text)


def _seal(
    image: Image.Image, center: tuple[int, int], radii: tuple[int, int], top_text: str, code: str, rng
) -> None:
    """Stamp a red oval seal (multiplied onto the page, like ink)."""
    w, h = radii
    layer = Image.new("RGB", (2 * w + 20, 2 * h + 20), (255, 255, 255))
    d = ImageDraw.Draw(layer)
    cx, cy = w + 10, h + 10
    d.ellipse((cx - w, cy - h, cx + w, cy + h), outline=_RED, width=9)
    fonts = available_fonts()
    path, index = fonts[0]
    n = len(top_text)
    size = int(min(w, h) * 0.30)
    for i, ch in enumerate(top_text):
        theta = math.radians(200 + i * 140 / max(n - 1, 1))
        r_x, r_y = w - size * 0.85, h - size * 0.85
        x, y = cx + r_x * math.cos(theta), cy + r_y * math.sin(theta)
        glyph = Image.new("L", (size * 2, size * 2), 0)
        ImageDraw.Draw(glyph).text((size, size), ch, font=_font(path, index, size), fill=255, anchor="mm")
        glyph = glyph.rotate(-math.degrees(theta) - 90, resample=Image.BICUBIC)
        layer.paste(Image.new("RGB", glyph.size, _RED), (int(x - size), int(y - size)), glyph)
    d.text((cx, cy - 5), code, font=_font(path, index, int(size * 0.75)), fill=_RED, anchor="mm")
    d.text((cx, cy + h * 0.5), "发票专用章", font=_font(path, index, int(size * 0.9)), fill=_RED, anchor="mm")
    layer = layer.rotate(rng.uniform(-15, 15), resample=Image.BICUBIC, fillcolor=(255, 255, 255))
    box = (center[0] - layer.width // 2, center[1] - layer.height // 2)
    region = image.crop((box[0], box[1], box[0] + layer.width, box[1] + layer.height))
    alpha = rng.uniform(0.75, 0.95)
    mixed = np.asarray(region, dtype=np.float32) * (
        1 - alpha + alpha * np.asarray(layer, dtype=np.float32) / 255.0
    )
    image.paste(Image.fromarray(mixed.clip(0, 255).astype(np.uint8)), box)


def _text_pdf(size: tuple[int, int], texts, kangxi: bool = False) -> bytes:
    """Write ``texts`` (pixel positions at 300 dpi) as real PDF text with an embedded CJK font (pypdfium2)."""
    import ctypes

    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    scale = 72 / 300
    page_w, page_h = size[0] * scale, size[1] * scale
    doc = pdfium.PdfDocument.new()
    page = doc.new_page(page_w, page_h)
    path = next((p for p, _ in available_fonts() if p.endswith("wqy-microhei.ttc")), available_fonts()[0][0])
    data = Path(path).read_bytes()
    font_buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
    font = pdfium_c.FPDFText_LoadFont(doc, font_buf, len(data), pdfium_c.FPDF_FONT_TRUETYPE, 1)
    keep = [font_buf]
    for x, y, text, px, _anchor in texts:
        if kangxi:  # e-invoice generators often emit Kangxi radicals, e.g. 统⼀ for 统一
            text = text.replace("一", "\u2f00").replace("人", "\u2f08")
        obj = pdfium_c.FPDFPageObj_CreateTextObj(doc, font, px * scale)
        wide = ctypes.create_string_buffer((text + "\x00").encode("utf-16-le"))
        keep.append(wide)
        pdfium_c.FPDFText_SetText(obj, ctypes.cast(wide, ctypes.POINTER(pdfium_c.FPDF_WCHAR)))
        pdfium_c.FPDFPageObj_Transform(obj, 1, 0, 0, 1, x * scale, page_h - y * scale - px * scale * 0.35)
        pdfium_c.FPDFPage_InsertObject(page, obj)
    pdfium_c.FPDFPage_GenerateContent(page)
    out = io.BytesIO()
    doc.save(out)
    doc.close()
    del keep
    return out.getvalue()


# --- vehicle licence, ID card, POS slip -------------------------------------------------------------------------


def _plate(rng: random.Random, nev: bool) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    if nev:
        return "晋J" + rng.choice("DF") + f"{rng.randrange(0, 100000):05d}"
    tail = "".join(rng.choice(letters + "0123456789") for _ in range(2)) + f"{rng.randrange(0, 1000):03d}"
    return "晋J" + tail


def _render_vehicle_license(
    rng: random.Random, overrides: dict[str, Any]
) -> tuple[Image.Image, dict[str, Any]]:
    nev = rng.random() < 0.4
    register = _date(rng)
    issue = register + dt.timedelta(days=rng.randrange(0, 3))
    truth = {
        "plate_number": _plate(rng, nev),
        "owner": _name(rng),
        "vin": _vin(rng),
        "register_date": register,
        "issue_date": issue,
    }
    truth.update(overrides)
    c = _Canvas((1400, 960), rng, paper=(238, 240, 236))
    lab, ls, vs = (40, 40, 60), 34, 38
    c.label((700, 70), "中华人民共和国机动车行驶证", 52, fill=lab, anchor="mm")
    c.label((80, 170), "号牌号码", ls, fill=lab)
    c.text((290, 170), truth["plate_number"][:2] + "·" + truth["plate_number"][2:], vs)
    c.label((760, 170), "车辆类型", ls, fill=lab)
    c.text((960, 170), "小型轿车", vs)
    c.label((80, 260), "所有人", ls, fill=lab)
    c.text((290, 260), truth["owner"], vs)
    c.label((80, 350), "住址", ls, fill=lab)
    c.text((290, 350), rng.choice(_STREETS) + f"{rng.randrange(1, 300)}号", vs)
    c.label((80, 440), "使用性质", ls, fill=lab)
    c.text((290, 440), "非营运", vs)
    c.label((760, 440), "品牌型号", ls, fill=lab)
    c.text((960, 440), rng.choice(_MODELS)[0][:8], vs)
    c.label((80, 530), "车辆识别代号", ls, fill=lab)
    c.text((330, 530), truth["vin"], vs)
    c.label((80, 620), "发动机号码", ls, fill=lab)
    c.text((330, 620), f"{rng.choice('ABCDEFGHJK')}{rng.randrange(10**6, 10**7)}", vs)
    c.label((80, 720), "注册日期", ls, fill=lab)
    c.text((260, 720), f"{register:%Y-%m-%d}", vs)
    c.label((700, 720), "发证日期", ls, fill=lab)
    c.text((880, 720), f"{issue:%Y-%m-%d}", vs)
    _seal(c.image, (rng.randint(1050, 1200), 830), (130, 100), "汾阳市公安局交通警察大队", "", rng)
    return c.image, truth


def _render_id_front(rng: random.Random, overrides: dict[str, Any]) -> tuple[Image.Image, dict[str, Any]]:
    truth = {"name": _name(rng), "id_number": _id_number(rng)}
    truth.update(overrides)
    id_number = truth["id_number"]
    c = _Canvas((1300, 820), rng, paper=(236, 242, 246))
    lab, ls, vs = (40, 110, 170), 34, 40
    birth = dt.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
    c.label((80, 110), "姓名", ls, fill=lab)
    c.text((200, 110), truth["name"], 46)
    c.label((80, 200), "性别", ls, fill=lab)
    c.text((200, 200), "男" if int(id_number[16]) % 2 else "女", vs)
    c.label((340, 200), "民族", ls, fill=lab)
    c.text((460, 200), "汉", vs)
    c.label((80, 290), "出生", ls, fill=lab)
    c.text((200, 290), f"{birth.year}年{birth.month}月{birth.day}日", vs)
    c.label((80, 380), "住址", ls, fill=lab)
    c.text((200, 380), "山西省" + rng.choice(_STREETS), vs)
    c.text((200, 450), f"{rng.randrange(1, 300)}号", vs)
    c.label((80, 680), "公民身份号码", ls, fill=lab)
    c.text((390, 680), id_number, 46)
    c.draw.rectangle((880, 100, 1200, 520), fill=(200, 205, 210))
    return c.image, truth


def _render_id_back(rng: random.Random) -> tuple[Image.Image, dict[str, Any]]:
    start = dt.date(2012, 1, 1) + dt.timedelta(days=rng.randrange(0, 3650))
    end = start.replace(year=start.year + 20)
    truth = {"issuer": "汾阳市公安局", "valid_from": start, "valid_until": end}
    c = _Canvas((1300, 820), rng, paper=(236, 242, 246))
    lab = (40, 40, 40)
    c.label((700, 200), "中华人民共和国", 64, fill=lab, anchor="mm")
    c.label((700, 320), "居民身份证", 80, fill=lab, anchor="mm")
    c.label((240, 600), "签发机关", 36, fill=lab)
    c.text((440, 600), truth["issuer"], 40)
    c.label((240, 690), "有效期限", 36, fill=lab)
    c.text((440, 690), f"{start:%Y.%m.%d}-{end:%Y.%m.%d}", 40)
    return c.image, truth


def _render_pos_slip(rng: random.Random) -> tuple[Image.Image, dict[str, Any]]:
    amount = _amount(rng)
    when = _date(rng)
    truth = {"amount": amount, "date": when}
    c = _Canvas((820, 1500), rng, paper=(246, 246, 244))
    mono = rng.choice(
        [f for f in available_fonts() if "Mono" in f[0] or f[1] in (1, 7)] or list(available_fonts())
    )
    y = 60

    def line(text: str, size: int = 32, gap: int = 58) -> None:
        nonlocal y
        c.text((40, y), text, size, font=mono)
        y += gap

    c.text((410, y), "中国银联POS签购单", 44, font=mono, anchor="mm")
    y += 80
    line("商户存根 MERCHANT COPY")
    line("商户名称(MERCHANT NAME):")
    line(rng.choice(_DEALERS))
    line(f"商户编号(MERCHANT NO.):{rng.randrange(10**14, 10**15)}")
    line(f"终端编号(TERMINAL NO.):{rng.randrange(10**7, 10**8)}")
    line(f"卡号(CARD NO.):6222 02** **** {rng.randrange(1000, 9999)}")
    line("交易类型(TRANS TYPE):消费/SALE")
    line(f"批次号(BATCH NO.):{rng.randrange(0, 999999):06d}")
    line(f"凭证号(VOUCHER NO.):{rng.randrange(0, 999999):06d}")
    clock = f"{rng.randrange(8, 20):02d}:{rng.randrange(0, 60):02d}:{rng.randrange(0, 60):02d}"
    line(f"日期/时间(DATE/TIME):{when:%Y/%m/%d} {clock}")
    line("金额(AMOUNT):")
    c.text((80, y + 10), f"RMB {_money(amount)}", 50, font=mono)
    y += 110
    line("备注(REFERENCE):")
    line("持卡人签名(CARDHOLDER SIGNATURE):")
    line("本人确认以上交易，同意将其记入本卡账户", 26)
    return c.image, truth


# --- damage -----------------------------------------------------------------------------------------------------


def degrade(image: Image.Image, condition: str, rng: random.Random) -> Image.Image:
    """Apply phone-photo damage. ``degraded`` = all kinds at once (milder each)."""
    if condition == "clean":
        return image
    steps = (
        ["uneven", "rotation", "lowres", "blur", "noise", "jpeg"] if condition == "degraded" else [condition]
    )
    mild = condition == "degraded"
    img = image.convert("RGB")
    for step in steps:
        if step == "rotation":
            angle = rng.uniform(1.0, 4.0 if mild else 5.0) * rng.choice((-1, 1))
            bg = tuple(rng.randint(90, 170) for _ in range(3))
            img = img.rotate(angle, resample=Image.BICUBIC, expand=True, fillcolor=bg)
        elif step == "blur":
            img = img.filter(
                ImageFilter.GaussianBlur(rng.uniform(0.8, 1.3) if mild else rng.uniform(1.2, 2.0))
            )
        elif step == "noise":
            arr = np.asarray(img, dtype=np.float32)
            sigma = rng.uniform(6, 12) if mild else rng.uniform(10, 18)
            noise = np.random.default_rng(rng.randrange(2**32)).normal(0, sigma, arr.shape)
            img = Image.fromarray((arr + noise).clip(0, 255).astype(np.uint8))
        elif step == "jpeg":
            buf = io.BytesIO()
            img.save(buf, "JPEG", quality=rng.randint(35, 45))
            img = Image.open(io.BytesIO(buf.getvalue())).convert("RGB")
        elif step == "lowres":
            factor = rng.uniform(0.5, 0.6) if mild else rng.uniform(0.42, 0.55)
            img = img.resize((int(img.width * factor), int(img.height * factor)), Image.BILINEAR)
        elif step == "uneven":
            arr = np.asarray(img, dtype=np.float32)
            h, w = arr.shape[:2]
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            cx, cy = rng.uniform(0, w), rng.uniform(0, h)
            dist = np.sqrt(((xx - cx) / w) ** 2 + ((yy - cy) / h) ** 2)
            dark = rng.uniform(0.45, 0.6)
            light = 1.0 - (1.0 - dark) * (dist / dist.max())
            tint = np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 0.97)], dtype=np.float32)
            img = Image.fromarray((arr * light[..., None] * tint).clip(0, 255).astype(np.uint8))
        else:
            raise ValueError(f"unknown condition {step}")
    return img
