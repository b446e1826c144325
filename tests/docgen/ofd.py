"""OFD files (GB/T 33190) of fully digital invoices, as the tax system issues them, and hostile ones."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

from ocr.numerals import amount_to_words

__all__ = ["billion_laughs", "invoice_ofd", "too_many_entries", "zip_bomb"]

_NS = "http://www.ofdspec.org/2016"


def _money(value: Decimal) -> str:
    return f"{value:.2f}"


def _fields(truth: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(structured element name, tag name, text) per field."""
    date: dt.date = truth["invoice_date"]
    rate = Decimal(truth["tax_rate"].rstrip("%")) / 100
    return [
        ("InvoiceNumber", "InvoiceNo", truth["invoice_number"]),
        ("IssueTime", "IssueDate", f"{date:%Y-%m-%d}" if truth.get("_dash_date") else f"{date:%Y年%m月%d日}"),
        ("BuyerName", "BuyerName", truth["buyer_name"]),
        ("BuyerIdNum", "BuyerTaxID", truth["buyer_id_number"]),
        ("SellerName", "SellerName", truth["seller_name"]),
        ("SellerIdNum", "SellerTaxID", truth["seller_credit_code"]),
        ("TotalAmWithoutTax", "TaxExclusiveTotalAmount", _money(truth["net_amount"])),
        ("TotalTaxAm", "TaxTotalAmount", _money(truth["tax_amount"])),
        ("TotalTax-includedAmount", "TaxInclusiveTotalAmount", _money(truth["amount_figures"])),
        (
            "TotalTax-includedAmountInChinese",
            "TotalTax-includedAmountInChinese",
            amount_to_words(truth["amount_figures"]),
        ),
        ("TaxRate", "TaxRate", f"{rate:.2f}"),
        ("VIN", "VIN", truth["vin"]),
    ]


def _structured_xml(truth: dict[str, Any]) -> str:
    f = {name: escape(text) for name, _tag, text in _fields(truth)}
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<EInvoice>
  <Header><EIid>{f["InvoiceNumber"]}</EIid><InherentLabel><InIssuType>01</InIssuType></InherentLabel></Header>
  <EInvoiceData>
    <SellerInformation><SellerIdNum>{f["SellerIdNum"]}</SellerIdNum><SellerName>{f["SellerName"]}</SellerName>
    </SellerInformation>
    <BuyerInformation><BuyerIdNum>{f["BuyerIdNum"]}</BuyerIdNum><BuyerName>{f["BuyerName"]}</BuyerName>
    </BuyerInformation>
    <BasicInformation>
      <TotalAmWithoutTax>{f["TotalAmWithoutTax"]}</TotalAmWithoutTax><TotalTaxAm>{f["TotalTaxAm"]}</TotalTaxAm>
      <TotalTax-includedAmount>{f["TotalTax-includedAmount"]}</TotalTax-includedAmount>
      <TotalTax-includedAmountInChinese>{f["TotalTax-includedAmountInChinese"]}</TotalTax-includedAmountInChinese>
    </BasicInformation>
    <IssuItemInformation><ItemName>*机动车*轿车</ItemName><TaxRate>{f["TaxRate"]}</TaxRate></IssuItemInformation>
    <SpecificInformation><MotorVehicle><VIN>{f["VIN"]}</VIN></MotorVehicle></SpecificInformation>
  </EInvoiceData>
  <TaxSupervisionInfo><InvoiceNumber>{f["InvoiceNumber"]}</InvoiceNumber><IssueTime>{f["IssueTime"]}</IssueTime>
  </TaxSupervisionInfo>
</EInvoice>
"""


def invoice_ofd(
    truth: dict[str, Any],
    *,
    structured: bool = True,
    tagged: bool = True,
    tamper: dict[str, str] | None = None,
) -> bytes:
    """An OFD invoice for ``truth`` (a docgen invoice truth): structured copy and/or tagged page text.

    ``tamper`` replaces the page text of some tags (to make the two copies disagree).
    """
    fields = _fields(truth)
    objects = []
    tags = []
    labels = [
        "电子发票（机动车销售统一发票）",
        "发票号码：",
        "开票日期：",
        "名称：",
        "统一社会信用代码/纳税人识别号：",
    ]
    next_id = 100
    y = 10.0
    for text in labels:
        objects.append(
            f'<ofd:TextObject ID="{next_id}" Boundary="10 {y} 120 6" Font="3" Size="4">'
            f'<ofd:TextCode X="0" Y="4">{escape(text)}</ofd:TextCode></ofd:TextObject>'
        )
        next_id += 1
        y += 7
    for _name, tag, text in fields:
        shown = (tamper or {}).get(tag, text)
        objects.append(
            f'<ofd:TextObject ID="{next_id}" Boundary="130 {y} 120 6" Font="3" Size="4">'
            f'<ofd:TextCode X="0" Y="4">{escape(shown)}</ofd:TextCode></ofd:TextObject>'
        )
        tags.append(f'<{tag}><ObjectRef PageRef="1">{next_id}</ObjectRef></{tag}>')
        next_id += 1
        y += 7
    ofd_xml = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:OFD xmlns:ofd="{_NS}" Version="1.1" DocType="OFD">
  <ofd:DocBody>
    <ofd:DocInfo><ofd:DocID>{truth["invoice_number"]}</ofd:DocID><ofd:Creator>税务数字账户</ofd:Creator></ofd:DocInfo>
    <ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>
  </ofd:DocBody>
</ofd:OFD>
"""
    document = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:Document xmlns:ofd="{_NS}">
  <ofd:CommonData><ofd:MaxUnitID>{next_id}</ofd:MaxUnitID>
    <ofd:PageArea><ofd:PhysicalBox>0 0 240 140</ofd:PhysicalBox></ofd:PageArea>
    <ofd:PublicRes>PublicRes.xml</ofd:PublicRes></ofd:CommonData>
  <ofd:Pages><ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages>
  {"<ofd:Attachments>Attachs/Attachments.xml</ofd:Attachments>" if structured else ""}
  {"<ofd:CustomTags>Tags/CustomTags.xml</ofd:CustomTags>" if tagged else ""}
</ofd:Document>
"""
    content = f"""<?xml version="1.0" encoding="UTF-8"?>
<ofd:Page xmlns:ofd="{_NS}"><ofd:Content><ofd:Layer ID="2">
{"".join(objects)}
</ofd:Layer></ofd:Content></ofd:Page>
"""
    files = {
        "OFD.xml": ofd_xml,
        "Doc_0/Document.xml": document,
        "Doc_0/PublicRes.xml": f'<?xml version="1.0" encoding="UTF-8"?><ofd:Res xmlns:ofd="{_NS}" BaseLoc="Res"/>',
        "Doc_0/Pages/Page_0/Content.xml": content,
    }
    if structured:
        files["Doc_0/Attachs/Attachments.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:Attachments xmlns:ofd="{_NS}">'
            '<ofd:Attachment ID="1" Name="original_invoice" Format="xml">'
            "<ofd:FileLoc>original_invoice.xml</ofd:FileLoc></ofd:Attachment></ofd:Attachments>"
        )
        files["Doc_0/Attachs/original_invoice.xml"] = _structured_xml(truth)
    if tagged:
        files["Doc_0/Tags/CustomTags.xml"] = (
            f'<?xml version="1.0" encoding="UTF-8"?><ofd:CustomTags xmlns:ofd="{_NS}">'
            '<ofd:CustomTag NameSpace="tax"><ofd:FileLoc>CustomTag.xml</ofd:FileLoc></ofd:CustomTag>'
            "</ofd:CustomTags>"
        )
        files["Doc_0/Tags/CustomTag.xml"] = (
            '<?xml version="1.0" encoding="UTF-8"?><Tags>' + "".join(tags) + "</Tags>"
        )
    return _zip(files)


def _zip(files: dict[str, str | bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in files.items():
            zf.writestr(name, text.encode() if isinstance(text, str) else text)
    return buf.getvalue()


def zip_bomb(truth: dict[str, Any], size: int = 20 * 1024 * 1024) -> bytes:
    """A valid-looking OFD with one entry that inflates far beyond its compressed size."""
    base = zipfile.ZipFile(io.BytesIO(invoice_ofd(truth)))
    files: dict[str, str | bytes] = {name: base.read(name) for name in base.namelist()}
    files["Doc_0/Res/image.bin"] = b"\0" * size
    return _zip(files)


def too_many_entries(truth: dict[str, Any], count: int = 5000) -> bytes:
    base = zipfile.ZipFile(io.BytesIO(invoice_ofd(truth)))
    files: dict[str, str | bytes] = {name: base.read(name) for name in base.namelist()}
    for i in range(count):
        files[f"Doc_0/Res/r{i}.xml"] = "<r/>"
    return _zip(files)


def billion_laughs(truth: dict[str, Any]) -> bytes:
    """OFD.xml with nested entity definitions (exponential expansion if entities were expanded)."""
    base = zipfile.ZipFile(io.BytesIO(invoice_ofd(truth)))
    files: dict[str, str | bytes] = {name: base.read(name) for name in base.namelist()}
    entities = '<!ENTITY a0 "ha">' + "".join(f'<!ENTITY a{i} "&a{i - 1};&a{i - 1};">' for i in range(1, 30))
    files["OFD.xml"] = (
        f'<?xml version="1.0"?><!DOCTYPE ofd:OFD [{entities}]>'
        f'<ofd:OFD xmlns:ofd="{_NS}"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml&a29;</ofd:DocRoot>'
        "</ofd:DocBody></ofd:OFD>"
    )
    return _zip(files)
