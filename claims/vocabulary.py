"""The words of the domain, each defined once with its Chinese label: declared fields, documents, claim statuses,
fuel types, check codes and results, and the reasons shown to applicants.

Forms, the API, the admin, the templates and the checks all read these definitions; adding a declared field or a
check starts here (see ARCHITECTURE.md).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

# --- Claim statuses -----------------------------------------------------------------------------------------


class ClaimStatus(models.TextChoices):
    UNDER_REVIEW = "under_review", _("审核中")
    WAITLISTED = "waitlisted", _("候补排队中")
    RETURNED = "returned", _("退回补正")
    APPROVED = "approved", _("审核通过，待发放")
    PAID = "paid", _("已发放")
    PAYOUT_FAILED = "payout_failed", _("发放失败")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")
    EXPIRED = "expired", _("已过期")
    APPEALED = "appealed", _("申诉复核中")
    UNFUNDED = "unfunded", _("活动结束，未获补贴")


# --- Fuel types ---------------------------------------------------------------------------------------------


class FuelType(models.TextChoices):
    FUEL = "fuel", _("燃油车（国六及以上）")
    NEV = "nev", _("新能源车")


# How the buyers' pages name the fuel types (with the emission standard spelled out).
FUEL_CHOICES_FOR_APPLICANTS: tuple[tuple[str, Any], ...] = (
    (FuelType.FUEL, _("燃油车（国六及以上排放标准）")),
    (FuelType.NEV, _("新能源车")),
)


# --- Documents ----------------------------------------------------------------------------------------------


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("机动车销售统一发票")
    ID_CARD_FRONT = "id_card_front", _("身份证人像面")
    ID_CARD_BACK = "id_card_back", _("身份证国徽面")
    VEHICLE_LICENSE = "vehicle_license", _("机动车行驶证")
    POS_SLIP = "pos_slip", _("POS 刷卡小票")


DOCUMENT_KINDS: tuple[str, ...] = tuple(DocumentKind.values)


# --- Channels -------------------------------------------------------------------------------------------------


class Channel(models.TextChoices):
    ONLINE = "online", _("线上申请")
    COUNTER = "counter", _("窗口受理")


# --- Declared fields ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeclaredField:
    """One value the applicant declares.

    `label` names it on staff pages, in the admin and as the model field's verbose name; `applicant_label` on the
    buyers' pages. `kind` decides how it is compared with an OCR reading (`values_agree`).
    """

    name: str
    label: Any
    applicant_label: Any
    kind: str = "text"  # text, money, date, choice
    required: bool = True
    correctable: bool = True  # a reviewer may ask the applicant to correct it
    bank: bool = False  # the payee's bank details (changed again after a failed payout)
    pii: bool = False  # encrypted at rest, masked for roles without PII access


# In the order reviewers see them.
DECLARED_FIELDS: tuple[DeclaredField, ...] = (
    DeclaredField("applicant_name", _("申请人姓名"), _("姓名")),
    # The ID number identifies the applicant: a wrong one is a rejection and a new claim, never a correction.
    DeclaredField("id_number", _("身份证号"), _("身份证号"), correctable=False, pii=True),
    DeclaredField("phone", _("手机号"), _("手机号"), pii=True),
    DeclaredField("fuel_type", _("车辆类型"), _("车辆类型"), kind="choice"),
    DeclaredField("vin", _("车架号（VIN）"), _("车架号（VIN）")),
    DeclaredField("plate_number", _("车牌号"), _("车牌号")),
    DeclaredField("vehicle_model", _("厂牌型号"), _("厂牌型号"), required=False),
    DeclaredField("invoice_code", _("发票代码"), _("发票代码"), required=False),
    DeclaredField("invoice_number", _("发票号码"), _("发票号码")),
    DeclaredField("invoice_date", _("开票日期"), _("开票日期"), kind="date"),
    DeclaredField("invoice_amount", _("发票价税合计"), _("发票金额（价税合计，元）"), kind="money"),
    DeclaredField("dealer_credit_code", _("销售方统一社会信用代码"), _("销售方统一社会信用代码")),
    DeclaredField("dealer_name", _("销售方名称"), _("销售方名称"), required=False),
    DeclaredField("license_issue_date", _("行驶证发证日期"), _("行驶证发证日期"), kind="date"),
    DeclaredField("pos_amount", _("POS 刷卡金额"), _("POS 刷卡金额（元）"), kind="money"),
    DeclaredField("pos_date", _("POS 交易日期"), _("刷卡日期"), kind="date"),
    DeclaredField("bank_name", _("开户银行"), _("开户银行"), bank=True),
    DeclaredField("bank_account", _("银行卡号"), _("银行借记卡号"), bank=True, pii=True),
    DeclaredField("account_holder", _("户名"), _("户名"), bank=True),
)
FIELDS: dict[str, DeclaredField] = {f.name: f for f in DECLARED_FIELDS}
DECLARED_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in DECLARED_FIELDS)
OPTIONAL_FIELDS: frozenset[str] = frozenset(f.name for f in DECLARED_FIELDS if not f.required)
CORRECTABLE_FIELDS: tuple[str, ...] = tuple(f.name for f in DECLARED_FIELDS if f.correctable)
BANK_FIELDS: tuple[str, ...] = tuple(f.name for f in DECLARED_FIELDS if f.bank)
MONEY_FIELDS: frozenset[str] = frozenset(f.name for f in DECLARED_FIELDS if f.kind == "money")


def field_label(name: str) -> Any:
    """The staff label of a declared field or document kind (the name itself when unknown)."""
    if name in FIELDS:
        return FIELDS[name].label
    if name in DOCUMENT_KINDS:
        return DocumentKind(name).label
    return name


def _normal(name: str, value: Any) -> Any:
    """A declared or read value in the form both sides are compared in; None when there is nothing to compare."""
    if value is None or value == "":
        return None
    kind = FIELDS[name].kind if name in FIELDS else "text"
    if kind == "money":
        try:
            return Decimal(str(value).replace(",", "").strip().lstrip("¥￥")).quantize(Decimal("0.01"))
        except (InvalidOperation, ValueError):
            return str(value).strip()
    if kind == "date" and isinstance(value, dt.date):
        return value.isoformat()
    return str(value).strip().upper().replace(" ", "")


def values_agree(name: str, declared: Any, read: Any) -> bool | None:
    """Whether a value read from a document agrees with the declared value of field `name`.

    None when nothing was read. The one comparison used by the checks and by the review page's highlight, so the
    two always agree.
    """
    read_value = _normal(name, read)
    if read_value is None:
        return None
    return _normal(name, declared) == read_value


# --- Checks -------------------------------------------------------------------------------------------------


class CheckResult(models.TextChoices):
    PASS = "pass", _("通过")
    FAIL = "fail", _("不通过")
    UNKNOWN = "unknown", _("待人工核对")


@dataclass(frozen=True)
class CheckCode:
    code: str
    label: Any
    ocr: bool  # needs a document's OCR reading (else the declared values and stored files are enough)


# In the order reviewers see them.
CHECKS: tuple[CheckCode, ...] = (
    CheckCode("invoice_amount_matches_ocr", _("发票金额与识别结果一致"), ocr=True),
    CheckCode("invoice_amount_words_match", _("发票大写金额与小写金额一致"), ocr=True),
    CheckCode("vin_matches_invoice", _("车架号与发票一致"), ocr=True),
    CheckCode("vin_matches_license", _("车架号与行驶证一致"), ocr=True),
    CheckCode("buyer_matches_invoice", _("购买方姓名、身份证号与发票一致"), ocr=True),
    CheckCode("plate_matches_fuel_type", _("号牌与车辆类型相符"), ocr=False),
    CheckCode("dealer_eligible", _("销售方在备案名单中"), ocr=False),
    CheckCode("pos_amount_over_minimum", _("POS 金额达到最低要求"), ocr=False),
    CheckCode("bank_account_checksum", _("银行卡号校验位正确"), ocr=False),
    CheckCode("duplicate_document", _("材料未被其他申请使用"), ocr=False),
)
CHECK_CODES: tuple[str, ...] = tuple(c.code for c in CHECKS)
OCR_CHECK_CODES: tuple[str, ...] = tuple(c.code for c in CHECKS if c.ocr)
CHECK_LABELS: dict[str, Any] = {c.code: c.label for c in CHECKS}


# --- Reasons shown to applicants ----------------------------------------------------------------------------
# code -> the text the applicant sees. A reviewer picks one and may add free text; "other" needs free text.
RETURN_REASONS: dict[str, Any] = {
    "document_unclear": _("材料照片不清晰或不完整，请重新上传清晰、完整的照片"),
    "document_wrong": _("上传的材料与要求不符，请上传正确的材料"),
    "invoice_mismatch": _("购车发票信息与申报信息不一致，请核对后更正"),
    "license_mismatch": _("行驶证信息与申报信息不一致，请核对后更正"),
    "pos_slip_incomplete": _("POS 刷卡小票信息不完整（须能看清金额、日期和卡号）"),
    "bank_info_error": _("银行卡信息有误，请核对后更正"),
    "declared_value_error": _("申报信息有误，请核对后更正"),
    "other": _("其他原因"),
}
REJECT_REASONS: dict[str, Any] = {
    "not_individual": _("申请人不是个人消费者（单位购车不予补贴）"),
    "buyer_mismatch": _("申请人与购车发票上的购买方不一致"),
    "vehicle_not_eligible": _("车辆不符合补贴条件（须为新乘用车，燃油车须达到国六及以上排放标准）"),
    "dealer_not_eligible": _("销售方不在本次活动备案的限额以上汽车零售企业名单中"),
    "out_of_window": _("购车或行驶证发证日期不在活动期内"),
    "invoice_invalid": _("购车发票真伪查验未通过"),
    "duplicate_claim": _("同一车辆或发票已申领过补贴"),
    "false_documents": _("申请材料不真实"),
    "other": _("其他原因"),
}
