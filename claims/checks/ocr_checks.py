"""Checks that compare the declared values of a claim with what the OCR read from its documents.

A check is ``pass`` only when the value was read with confidence and agrees, ``fail`` only when it was read with
confidence and disagrees; anything else (pending, engine missing, not found, low confidence) is ``unknown`` and
goes to a person.  The machine never rejects a claim by itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from claims.checks.models import DocumentReading, ReadingStatus
from claims.vocabulary import OCR_CHECK_CODES, CheckResult, values_agree
from ocr.numerals import amount_to_words

__all__ = ["OCR_CHECK_CODES", "ocr_checks"]

PASS, FAIL, UNKNOWN = CheckResult.PASS.value, CheckResult.FAIL.value, CheckResult.UNKNOWN.value

_DOC_NAMES = {
    "invoice": "发票",
    "vehicle_license": "行驶证",
    "id_card_front": "身份证人像面",
    "id_card_back": "身份证国徽面",
    "pos_slip": "POS 小票",
}


def _check(code: str, result: str, detail: str) -> dict[str, str]:
    return {"code": code, "result": result, "detail": detail}


def _money(value: Any) -> str:
    return f"¥{Decimal(value):,.2f}"


def _mask_id(value: str) -> str:
    value = str(value or "")
    return value[:4] + "*" * max(0, len(value) - 8) + value[-4:] if len(value) > 8 else value


@dataclass
class _Doc:
    kind: str
    reading: DocumentReading | None
    uploaded: bool

    def unavailable(self) -> str | None:
        """A reviewer-readable reason why this document's fields cannot be used, or None."""
        name = _DOC_NAMES.get(self.kind, self.kind)
        if not self.uploaded:
            return f"未上传{name}"
        r = self.reading
        if r is None or r.status == ReadingStatus.PENDING:
            return f"{name}尚在识别中"
        if r.status == ReadingStatus.ENGINE_MISSING:
            return f"{r.engines_missing_detail}，{name}需人工核对"
        if r.status == ReadingStatus.FAILED:
            return f"{name}识别失败（{r.error or '原因未知'}），需人工核对"
        return None

    def field(self, name: str) -> tuple[Any, bool]:
        """(value, confident) of a field; (None, False) when not read."""
        if self.reading is None:
            return None, False
        data = (self.reading.fields or {}).get(name) or {}
        return data.get("value"), bool(data.get("confident")) and data.get("value") is not None


def _documents(claim) -> dict[str, _Doc]:
    docs: dict[str, _Doc] = {kind: _Doc(kind, None, False) for kind in _DOC_NAMES}
    current = claim.documents.filter(is_current=True)
    readings = {r.document_id: r for r in DocumentReading.objects.filter(document__in=current)}
    for document in current:
        docs[document.kind] = _Doc(document.kind, readings.get(document.pk), True)
    return docs


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value is not None else None
    except (InvalidOperation, ValueError):
        return None


def _amount_checks(claim, invoice: _Doc) -> list[dict[str, str]]:
    reason = invoice.unavailable()
    if reason:
        return [
            _check("invoice_amount_matches_ocr", UNKNOWN, reason),
            _check("invoice_amount_words_match", UNKNOWN, reason),
        ]
    figures, figures_ok = invoice.field("amount_figures")
    words, words_ok = invoice.field("amount_words")
    figures_d, words_d = _decimal(figures), _decimal(words)
    declared = _decimal(claim.invoice_amount)
    results = []

    # The amount that two independent readings confirmed (¥ = 大写, ¥ = 不含税价 + 税额, or two engines).
    confirmed = figures_d if figures_ok else (words_d if words_ok else None)
    if confirmed is None:
        if figures_d is not None:
            detail = f"发票价税合计识别为 {_money(figures_d)}，但未经第二次独立识别确认（大写金额或税额未能核对），需人工核对"
        else:
            detail = "未能从发票上可靠识别价税合计金额，需人工核对"
        results.append(_check("invoice_amount_matches_ocr", UNKNOWN, detail))
    elif values_agree("invoice_amount", claim.invoice_amount, confirmed):
        results.append(
            _check(
                "invoice_amount_matches_ocr",
                PASS,
                f"发票价税合计 {_money(confirmed)} 与申报金额 {_money(declared)} 一致",
            )
        )
    else:
        results.append(
            _check(
                "invoice_amount_matches_ocr",
                FAIL,
                f"发票价税合计 {_money(confirmed)} 与申报金额 {_money(declared)} 不一致",
            )
        )

    engines = list(invoice.reading.engines or []) if invoice.reading else []
    if engines == ["tesseract"]:
        results.append(
            _check(
                "invoice_amount_words_match",
                UNKNOWN,
                "当前识别引擎（Tesseract）的中文模型无法读取大写金额，需人工核对大写与小写是否一致",
            )
        )
    elif words_ok and figures_ok and words_d is not None and figures_d is not None:
        if words_d == figures_d:
            results.append(
                _check(
                    "invoice_amount_words_match",
                    PASS,
                    f"发票大写金额“{amount_to_words(words_d)}”与小写金额 {_money(figures_d)} 一致",
                )
            )
        else:
            results.append(
                _check(
                    "invoice_amount_words_match",
                    FAIL,
                    f"发票大写金额（{_money(words_d)}）与小写金额 {_money(figures_d)} 不一致",
                )
            )
    elif words_d is None:
        results.append(_check("invoice_amount_words_match", UNKNOWN, "未能可靠识别发票大写金额，需人工核对"))
    else:
        results.append(
            _check(
                "invoice_amount_words_match",
                UNKNOWN,
                f"大写金额识别为 {_money(words_d)}"
                + (f"，小写金额识别为 {_money(figures_d)}" if figures_d is not None else "，小写金额未识别")
                + "，识别置信度不足，需人工核对",
            )
        )
    return results


def _vin_check(code: str, claim, doc: _Doc) -> dict[str, str]:
    name = _DOC_NAMES[doc.kind]
    reason = doc.unavailable()
    if reason:
        return _check(code, UNKNOWN, reason)
    value, ok = doc.field("vin")
    declared = (claim.vin or "").strip().upper()
    if value is None:
        return _check(code, UNKNOWN, f"未能从{name}识别车架号，需人工核对")
    if not ok:
        return _check(code, UNKNOWN, f"{name}车架号识别为 {value}，置信度不足或校验位不符，需人工核对")
    if values_agree("vin", claim.vin, value):
        return _check(code, PASS, f"{name}车架号 {value} 与申报车架号一致")
    return _check(code, FAIL, f"{name}车架号 {value} 与申报车架号 {declared} 不一致")


@dataclass(frozen=True)
class _PersonWords:
    """How one document names the applicant's name and ID number, for a check's Chinese detail."""

    name_field: str
    id_field: str
    name_label: str  # 购买方名称, 身份证姓名 …
    name_unsure_label: str  # when the name could not be used
    id_label: str  # as read: 购买方身份证号, 身份证号码
    id_declared_label: str  # the declared number it is compared with
    id_unsure_label: str  # when the number could not be used
    on_document: str  # 发票上的, 身份证上的
    passed: str  # the pass detail, with {name} and {id}


_INVOICE_BUYER = _PersonWords(
    "buyer_name",
    "buyer_id_number",
    "购买方名称",
    "购买方名称",
    "购买方身份证号",
    "申请人身份证号",
    "购买方身份证号",
    "发票上的",
    "发票购买方“{name}”及身份证号 {id} 与申请人一致",
)
_ID_CARD_HOLDER = _PersonWords(
    "name",
    "id_number",
    "身份证姓名",
    "姓名",
    "身份证号码",
    "申报身份证号",
    "公民身份号码",
    "身份证上的",
    "身份证姓名“{name}”及号码 {id} 与申请人一致",
)


def _person_check(code: str, claim, doc: _Doc, words: _PersonWords) -> dict[str, str]:
    """The name and ID number read from `doc` against the applicant's declared ones."""
    reason = doc.unavailable()
    if reason:
        return _check(code, UNKNOWN, reason)
    name, name_ok = doc.field(words.name_field)
    id_number, id_ok = doc.field(words.id_field)
    declared_name = (claim.applicant_name or "").strip()
    declared_id = str(claim.id_number or "").strip().upper()
    problems, unsure = [], []
    if name_ok and not values_agree("applicant_name", declared_name, name):
        problems.append(f"{words.name_label}“{name}”与申请人“{declared_name}”不一致")
    elif not name_ok:
        unsure.append(words.name_unsure_label + (f"（识别为“{name}”，置信度不足）" if name else "（未识别）"))
    if id_ok and not values_agree("id_number", declared_id, id_number):
        problems.append(
            f"{words.id_label} {_mask_id(id_number)} 与{words.id_declared_label} {_mask_id(declared_id)} 不一致"
        )
    elif not id_ok:
        unsure.append(words.id_unsure_label + ("（识别置信度不足）" if id_number else "（未识别）"))
    if problems:
        return _check(code, FAIL, "；".join(problems))
    if unsure:
        return _check(code, UNKNOWN, words.on_document + "、".join(unsure) + "，需人工核对")
    return _check(code, PASS, words.passed.format(name=name, id=_mask_id(id_number)))


def _license_owner_check(claim, license_doc: _Doc) -> dict[str, str]:
    code = "license_owner_matches"
    reason = license_doc.unavailable()
    if reason:
        return _check(code, UNKNOWN, reason)
    owner, ok = license_doc.field("owner")
    declared = (claim.applicant_name or "").strip()
    if owner is None:
        return _check(code, UNKNOWN, "未能从行驶证识别所有人，需人工核对")
    if not ok:
        return _check(code, UNKNOWN, f"行驶证所有人识别为“{owner}”，置信度不足，需人工核对")
    if values_agree("applicant_name", declared, owner):
        return _check(code, PASS, f"行驶证所有人“{owner}”与申请人一致")
    return _check(code, FAIL, f"行驶证所有人“{owner}”与申请人“{declared}”不一致")


def ocr_checks(claim) -> list[dict[str, str]]:
    """The OCR-based checks of a claim (see ``OCR_CHECK_CODES``), each ``{code, result, detail}``."""
    docs = _documents(claim)
    invoice = docs["invoice"]
    results = _amount_checks(claim, invoice)
    results.append(_vin_check("vin_matches_invoice", claim, invoice))
    results.append(_vin_check("vin_matches_license", claim, docs["vehicle_license"]))
    results.append(_person_check("buyer_matches_invoice", claim, invoice, _INVOICE_BUYER))
    results.append(_person_check("buyer_matches_id_card", claim, docs["id_card_front"], _ID_CARD_HOLDER))
    results.append(_license_owner_check(claim, docs["vehicle_license"]))
    return results
