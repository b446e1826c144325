"""How the buyers' pages present the claim fields: labels, input types, help texts and the steps.

Nothing here validates: the services do (claims.intake.services). This module only describes inputs and binds
the values and the service's field errors to them, so the templates can render labels, hints and errors tied
together (aria-describedby).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from claims.errors import FieldError
from claims.vocabulary import FIELDS as DECLARED
from claims.vocabulary import FUEL_CHOICES_FOR_APPLICANTS, DocumentKind

FILE_ACCEPT = "image/*,application/pdf"


@dataclass(frozen=True)
class FieldSpec:
    name: str
    label: Any
    kind: str = "text"  # text, tel, date, radio, select, file
    required: bool = True
    help: Any = ""
    inputmode: str = ""
    autocomplete: str = "off"
    maxlength: int | None = None
    sensitive: bool = False  # never echoed back into the page (ID, card number)


def _spec(name: str, **presentation: Any) -> FieldSpec:
    """A declared field as the buyers' pages show it: its applicant label from the vocabulary."""
    return FieldSpec(name, DECLARED[name].applicant_label, required=DECLARED[name].required, **presentation)


FIELDS: dict[str, FieldSpec] = {
    f.name: f
    for f in (
        _spec("applicant_name", autocomplete="name", maxlength=30, help=_("与身份证上的姓名一致")),
        _spec("id_number", maxlength=18, sensitive=True, help=_("18 位居民身份证号码，最后一位可能是 X")),
        _spec(
            "phone", kind="tel", inputmode="numeric", autocomplete="tel", maxlength=11, help=_("用于联系您")
        ),
        _spec("fuel_type", kind="radio"),
        _spec("vin", maxlength=17, help=_("17 位，见行驶证或发票上的“车辆识别代号/车架号码”")),
        _spec("plate_number", maxlength=10, help=_("例如 晋J12345；新能源车为 8 位，例如 晋JD12345")),
        _spec("license_issue_date", kind="date"),
        _spec("invoice_number", inputmode="numeric", maxlength=20, help=_("纸质发票 8 位，全电发票 20 位")),
        _spec(
            "invoice_code",
            inputmode="numeric",
            maxlength=12,
            help=_("纸质发票必填（10 或 12 位）；全电发票没有发票代码，请留空"),
        ),
        _spec("invoice_date", kind="date"),
        _spec(
            "invoice_amount",
            inputmode="decimal",
            maxlength=14,
            help=_("填写发票上“价税合计”的小写金额，例如 158000.00"),
        ),
        _spec("dealer_credit_code", maxlength=18, help=_("见发票“销售方”一栏，18 位")),
        _spec(
            "pos_amount",
            inputmode="decimal",
            maxlength=14,
            help=_("购车时银行卡刷卡金额，须大于规定的最低金额"),
        ),
        _spec("pos_date", kind="date"),
        _spec("bank_name", maxlength=100, help=_("例如 中国建设银行汾阳支行")),
        _spec(
            "bank_account",
            inputmode="numeric",
            maxlength=23,
            sensitive=True,
            help=_("申请人本人名下的借记卡，16 至 19 位数字"),
        ),
        _spec("account_holder", maxlength=30, help=_("须与申请人姓名一致")),
    )
}
DOCUMENT_HELP = {
    DocumentKind.INVOICE: _("机动车销售统一发票，整张拍清楚"),
    DocumentKind.ID_CARD_FRONT: _("身份证有照片的一面"),
    DocumentKind.ID_CARD_BACK: _("身份证有国徽的一面"),
    DocumentKind.VEHICLE_LICENSE: _("行驶证主页（含发证日期）"),
    DocumentKind.POS_SLIP: _("银行卡刷卡的 POS 小票"),
}
for _kind in DocumentKind:
    FIELDS[_kind.value] = FieldSpec(
        _kind.value, _kind.label, kind="file", help=DOCUMENT_HELP.get(_kind, ""), autocomplete=""
    )
FIELDS["declaration"] = FieldSpec("declaration", _("承诺"), kind="checkbox")

FUEL_CHOICES = FUEL_CHOICES_FOR_APPLICANTS

# The application in steps: applicant, vehicle, invoice, payment, documents.
STEPS: tuple[tuple[str, Any, tuple[str, ...]], ...] = (
    ("applicant", _("申请人"), ("applicant_name", "id_number", "phone")),
    ("vehicle", _("车辆"), ("fuel_type", "vin", "plate_number", "license_issue_date")),
    (
        "invoice",
        _("购车发票"),
        ("invoice_number", "invoice_code", "invoice_date", "invoice_amount", "dealer_credit_code"),
    ),
    ("payment", _("刷卡与收款"), ("pos_amount", "pos_date", "bank_name", "bank_account", "account_holder")),
    ("documents", _("上传材料"), tuple(DocumentKind.values)),
)


def field_label(name: str) -> str:
    spec = FIELDS.get(name)
    return str(spec.label) if spec else name


def bind_field(
    name: str,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, list[FieldError]] | None = None,
    *,
    dealers: Iterable[Mapping[str, str]] = (),
) -> dict[str, Any]:
    """One field ready for `public/_field.html`: its spec, the value to show and its errors."""
    spec = FIELDS[name]
    value = "" if spec.sensitive or spec.kind == "file" or values is None else values.get(name, "")
    if isinstance(value, list):
        value = value[-1] if value else ""
    described = [f"f-{name}-help"] if spec.help else []
    field_errors = list((errors or {}).get(name, []))
    if field_errors:
        described.append(f"f-{name}-error")
    choices: tuple = ()
    kind = spec.kind
    if name == "fuel_type":
        choices = FUEL_CHOICES
    elif name == "dealer_credit_code" and dealers:
        kind = "select"
        choices = tuple((d["credit_code"], f"{d['name']}（{d['credit_code']}）") for d in dealers)
    return {
        "name": name,
        "id": f"f-{name}",
        "label": spec.label,
        "kind": kind,
        "required": spec.required,
        "help": spec.help,
        "inputmode": spec.inputmode,
        "autocomplete": spec.autocomplete,
        "maxlength": spec.maxlength,
        "value": "" if value is None else str(value),
        "choices": choices,
        "errors": field_errors,
        "describedby": " ".join(described),
        "accept": FILE_ACCEPT if spec.kind == "file" else "",
    }


def bind_steps(values, errors, *, dealers=()) -> list[dict[str, Any]]:
    steps = []
    for key, title, names in STEPS:
        fields = [bind_field(n, values, errors, dealers=dealers) for n in names]
        steps.append(
            {"key": key, "title": title, "fields": fields, "has_errors": any(f["errors"] for f in fields)}
        )
    return steps


def error_summary(errors: Mapping[str, list[FieldError]]) -> list[dict[str, str]]:
    """Every field error as a line of the summary at the top of a form, linking to its field."""
    lines = []
    for name, items in errors.items():
        for error in items:
            lines.append(
                {
                    "field": name if name in FIELDS else "",
                    "label": field_label(name) if name in FIELDS else "",
                    "code": error.code,
                    "message": error.message,
                }
            )
    return lines
