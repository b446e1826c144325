"""OFD files (GB/T 33190) of fully digital invoices: validated as hostile input, read from their XML.

An OFD file is a zip of XML: ``OFD.xml`` at the root names the document (``DocRoot``); the tax system's invoices
carry a structured copy of the invoice as an attachment (elements such as ``InvoiceNo``, ``IssueDate``,
``BuyerName``, the amounts) and ``Tags/CustomTag.xml`` linking the same names to the page's text objects
(``Pages/Page_N/Content.xml``: ``TextObject``/``TextCode``).  ``read_invoice`` reads the structured copy when
there is one and the tagged page text otherwise; where both are present they must agree.  Values read this way
are confident by construction (no OCR), except where they fail their own checks (VIN check digit, ID check
character, 不含税价 + 税额 = 价税合计).

The zip is treated as hostile: size, entry count, per-entry and total uncompressed size and compression ratio
are limited, entries are read with a bounded reader, and XML is parsed with DTDs, entities and external
references refused (``defusedxml``).
"""

from __future__ import annotations

import datetime as dt
import io
import posixpath
import re
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

from .numerals import parse_amount_words
from .readers.base import FieldReading, missing
from .readers.candidates import plausible_resident_id
from .readers.invoice import FIELDS, rate_check
from .validators import is_valid_credit_code, is_valid_vin

__all__ = ["OFD_CONTENT_TYPE", "OFD_ENGINE", "OfdDocument", "OfdError", "inspect", "is_ofd", "read_invoice"]

OFD_CONTENT_TYPE = "application/ofd"
OFD_ENGINE = "ofd"
MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_ENTRIES = 1000
MAX_ENTRY_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 64 * 1024 * 1024
MAX_RATIO = 100
_RATIO_FLOOR = 64 * 1024  # below this size a high ratio cannot hurt (small XML compresses very well)
_CENT = Decimal("0.01")


class OfdError(ValueError):
    """Not a valid OFD file; ``code`` is the refusal code, the message is in Chinese."""

    code = "invalid_file"


@dataclass
class OfdDocument:
    entries: list[str]
    doc_root: str
    pages: list[str]
    custom_data: dict[str, str] = field(default_factory=dict)
    invoice_xml: str | None = None
    custom_tags: str | None = None


def is_ofd(data: bytes) -> bool:
    """A zip whose root holds OFD.xml (cheap: looks at the central directory only)."""
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return any(name.lstrip("/") == "OFD.xml" for name in zf.namelist()[:MAX_ENTRIES])
    except (zipfile.BadZipFile, OSError, ValueError):
        return False


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _key(name: str) -> str:
    return re.sub(r"[^0-9a-z\u3400-\u9fff]", "", name.lower())


def _parse_xml(data: bytes, name: str) -> Element:
    try:
        return fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (DefusedXmlException, ParseError, ValueError) as exc:
        raise OfdError(f"OFD 文件中的 {name} 不是安全的 XML：{type(exc).__name__}") from exc


class _Archive:
    def __init__(self, data: bytes) -> None:
        if len(data) > MAX_FILE_BYTES:
            raise OfdError("OFD 文件过大")
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise OfdError("不是有效的 OFD 文件（无法作为 zip 打开）") from exc
        infos = self.zf.infolist()
        if len(infos) > MAX_ENTRIES:
            raise OfdError("OFD 文件包含的条目过多")
        total = 0
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            name = info.filename
            if info.flag_bits & 0x1:
                raise OfdError("OFD 文件含有加密条目")
            parts = name.replace("\\", "/").split("/")
            if name.startswith(("/", "\\")) or ".." in parts or ":" in parts[0]:
                raise OfdError("OFD 文件含有非法路径")
            if info.file_size > MAX_ENTRY_BYTES:
                raise OfdError("OFD 文件中的条目过大")
            if info.file_size > _RATIO_FLOOR and info.file_size > MAX_RATIO * max(info.compress_size, 1):
                raise OfdError("OFD 文件压缩比异常")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise OfdError("OFD 文件解压后过大")
            if not name.endswith("/"):
                self.infos[name.lstrip("/")] = info

    def names(self) -> list[str]:
        return list(self.infos)

    def read(self, name: str) -> bytes:
        info = self.infos.get(name.lstrip("/"))
        if info is None:
            raise OfdError(f"OFD 文件缺少 {name}")
        limit = min(info.file_size, MAX_ENTRY_BYTES)
        try:
            with self.zf.open(info) as fh:
                data = fh.read(limit + 1)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise OfdError(f"OFD 文件中的 {name} 已损坏") from exc
        if len(data) > limit:
            raise OfdError("OFD 文件中的条目大小与声明不符")
        return data

    def xml(self, name: str) -> Element:
        return _parse_xml(self.read(name), name)

    def resolve(self, base: str, loc: str) -> str:
        """A location in the package (absolute from the root, or relative to ``base``'s folder)."""
        loc = loc.strip().replace("\\", "/")
        path = loc.lstrip("/") if loc.startswith("/") else posixpath.join(posixpath.dirname(base), loc)
        path = posixpath.normpath(path)
        if path.startswith("..") or path not in self.infos:
            # some producers write locations relative to the document folder
            alt = posixpath.normpath(posixpath.join(posixpath.dirname(base), posixpath.basename(loc)))
            if alt in self.infos:
                return alt
            raise OfdError(f"OFD 文件缺少 {loc}")
        return path


def _children(root: Element, name: str) -> list[Element]:
    return [el for el in root.iter() if _local(el.tag) == name]


def _text(el: Element) -> str:
    return "".join(el.itertext()).strip()


def _inspect(archive: _Archive) -> OfdDocument:
    if "OFD.xml" not in archive.infos:
        raise OfdError("不是有效的 OFD 文件（缺少 OFD.xml）")
    root = archive.xml("OFD.xml")
    if _local(root.tag) != "OFD":
        raise OfdError("不是有效的 OFD 文件（OFD.xml 的根元素不对）")
    roots = _children(root, "DocRoot")
    if not roots or not _text(roots[0]):
        raise OfdError("不是有效的 OFD 文件（没有 DocRoot）")
    doc_root = archive.resolve("OFD.xml", _text(roots[0]))
    custom = {}
    for el in _children(root, "CustomData"):
        name = el.get("Name")
        if name:
            custom[name] = _text(el)
    document = archive.xml(doc_root)
    pages = []
    for page in _children(document, "Page"):
        loc = page.get("BaseLoc")
        if loc:
            pages.append(archive.resolve(doc_root, loc))
    if not pages:
        raise OfdError("OFD 文件没有页面")
    invoice_xml = None
    attachments = _children(document, "Attachments")
    candidates: list[str] = []
    if attachments and _text(attachments[0]):
        att_path = archive.resolve(doc_root, _text(attachments[0]))
        for att in _children(archive.xml(att_path), "Attachment"):
            for loc_el in _children(att, "FileLoc"):
                try:
                    candidates.append(archive.resolve(att_path, _text(loc_el)))
                except OfdError:
                    continue
    doc_dir = posixpath.dirname(doc_root)
    candidates += [
        n for n in archive.names() if n.startswith(posixpath.join(doc_dir, "Attachs")) and n.endswith(".xml")
    ]
    for name in candidates:
        if name.endswith(".xml") and posixpath.basename(name) != "Attachments.xml":
            invoice_xml = name
            break
    custom_tags = None
    tags = _children(document, "CustomTags")
    if tags and _text(tags[0]):
        tags_path = archive.resolve(doc_root, _text(tags[0]))
        for tag in _children(archive.xml(tags_path), "CustomTag"):
            for loc_el in _children(tag, "FileLoc"):
                custom_tags = archive.resolve(tags_path, _text(loc_el))
                break
            if custom_tags:
                break
    return OfdDocument(
        entries=archive.names(),
        doc_root=doc_root,
        pages=pages,
        custom_data=custom,
        invoice_xml=invoice_xml,
        custom_tags=custom_tags,
    )


def inspect(data: bytes) -> OfdDocument:
    """Validate an OFD file (as hostile input) and describe it; raises ``OfdError`` when it is not valid."""
    return _inspect(_Archive(data))


# --- field names in the structured invoice and in the tags -----------------------------------------------------

_NAMES: dict[str, tuple[str, ...]] = {
    "invoice_number": ("invoiceno", "invoicenumber", "fphm", "发票号码"),
    "invoice_code": ("invoicecode", "fpdm", "发票代码"),
    "invoice_date": ("issuedate", "issuetime", "kprq", "开票日期"),
    "buyer_name": ("buyername", "gmfmc", "购买方名称"),
    "buyer_id_number": (
        "buyertaxid",
        "buyeridnum",
        "buyeridnumber",
        "buyertaxpayerid",
        "buyeridcardno",
        "gmfnsrsbh",
        "购买方纳税人识别号",
        "购买方身份证号码",
    ),
    "seller_name": ("sellername", "xsfmc", "销售方名称"),
    "seller_credit_code": (
        "sellertaxid",
        "selleridnum",
        "sellertaxpayerid",
        "xsfnsrsbh",
        "销售方纳税人识别号",
    ),
    "amount_figures": (
        "taxinclusivetotalamount",
        "totaltaxincludedamount",
        "totalamountwithtax",
        "jshj",
        "价税合计",
    ),
    "amount_words": (
        "totaltaxincludedamountinchinese",
        "taxinclusivetotalamountinchinese",
        "jshjdx",
        "价税合计大写",
    ),
    "net_amount": (
        "taxexclusivetotalamount",
        "totalamwithouttax",
        "totalamountwithouttax",
        "hjje",
        "合计金额",
        "不含税价",
    ),
    "tax_amount": ("taxtotalamount", "totaltaxam", "totaltaxamount", "hjse", "合计税额", "增值税税额"),
    "tax_rate": ("taxrate", "sl", "税率"),
    "vin": ("vin", "vehicleidentificationnumber", "vehicleidentificationcode", "cjhm", "车辆识别代号"),
}
_LOOKUP = {_key(alias): name for name, aliases in _NAMES.items() for alias in aliases}


def _structured(root: Element) -> dict[str, str]:
    found: dict[str, str] = {}
    for el in root.iter():
        name = _LOOKUP.get(_key(_local(el.tag)))
        if name and name not in found and len(el) == 0 and _text(el):
            found[name] = _text(el)
    return found


def _page_texts(archive: _Archive, pages: list[str]) -> dict[str, str]:
    texts: dict[str, str] = {}
    for page in pages:
        for obj in _children(archive.xml(page), "TextObject"):
            obj_id = obj.get("ID")
            if obj_id:
                texts[obj_id] = "".join(_text(code) for code in _children(obj, "TextCode"))
    return texts


def _tagged(archive: _Archive, doc: OfdDocument) -> dict[str, str]:
    if not doc.custom_tags:
        return {}
    texts = _page_texts(archive, doc.pages)
    found: dict[str, str] = {}
    for el in archive.xml(doc.custom_tags).iter():
        name = _LOOKUP.get(_key(_local(el.tag)))
        if not name or name in found:
            continue
        refs = [_text(ref) for ref in _children(el, "ObjectRef")]
        value = "".join(texts.get(ref, "") for ref in refs).strip()
        if value:
            found[name] = value
    return found


# --- values -----------------------------------------------------------------------------------------------------


def _date(text: str) -> dt.date | None:
    match = re.search(r"(\d{4})\s*[年\-./]?\s*(\d{1,2})\s*[月\-./]?\s*(\d{1,2})", text)
    if not match:
        return None
    try:
        return dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    except ValueError:
        return None


def _amount(text: str) -> Decimal | None:
    cleaned = re.sub(r"[¥￥,\s]|元$", "", text)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0 or value != value.quantize(_CENT, rounding=ROUND_HALF_UP):
        return None
    return value.quantize(_CENT)


def _rate(text: str) -> str | None:
    text = text.strip().rstrip("%")
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    if value < 1:
        value *= 100
    if value != value.to_integral_value():
        return None
    return f"{int(value)}%"


def _value(name: str, text: str):
    """(value, passes its own checks) for one field's text."""
    text = text.strip()
    if name == "invoice_date":
        value = _date(text)
        return value, value is not None
    if name in ("amount_figures", "net_amount", "tax_amount"):
        value = _amount(text)
        return value, value is not None
    if name == "amount_words":
        value = parse_amount_words(text)
        return value, value is not None
    if name == "tax_rate":
        value = _rate(text)
        return value, value is not None
    if name == "vin":
        value = text.upper()
        return value, is_valid_vin(value)
    if name == "buyer_id_number":
        value = text.upper()
        return value, plausible_resident_id(value) or is_valid_credit_code(value)
    if name == "seller_credit_code":
        value = text.upper()
        return value, is_valid_credit_code(value)
    if name in ("invoice_number", "invoice_code"):
        return text, text.isdigit()
    return text, bool(text)


def read_invoice(data: bytes) -> dict[str, FieldReading]:
    """The invoice's fields, from the structured copy and the tagged page text; raises ``OfdError``."""
    archive = _Archive(data)
    doc = _inspect(archive)
    structured = _structured(archive.xml(doc.invoice_xml)) if doc.invoice_xml else {}
    tagged = _tagged(archive, doc)
    out: dict[str, FieldReading] = {name: missing(OFD_ENGINE) for name in FIELDS}
    for name in FIELDS:
        sources = [s[name] for s in (structured, tagged) if name in s]
        if not sources:
            continue
        parsed = [_value(name, text) for text in sources]
        value, ok = parsed[0]
        agree = all(p[0] == value for p in parsed)
        out[name] = FieldReading(value, 1.0 if ok and agree else 0.5, ok and agree, OFD_ENGINE)
    figures, net, tax = (out[n].value for n in ("amount_figures", "net_amount", "tax_amount"))
    if figures is not None and net is not None and tax is not None and rate_check(figures, net, tax) is None:
        if net + tax != figures:
            for name in ("amount_figures", "net_amount", "tax_amount"):
                out[name].confident = False
    words = out["amount_words"].value
    if words is not None and figures is not None and words != figures:
        out["amount_words"].confident = False
        out["amount_figures"].confident = False
    if out["invoice_number"].value and len(str(out["invoice_number"].value)) not in (8, 20):
        out["invoice_number"].confident = False
    if not structured and not tagged:
        raise OfdError("OFD 文件中没有可读取的发票数据")
    return out
