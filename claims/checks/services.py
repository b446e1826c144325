"""Automated checks shown to reviewers (their codes and labels are in `claims.vocabulary`). No check ever
decides a claim: people do."""

from __future__ import annotations

import logging

from django.utils import timezone
from django.utils.translation import gettext as _

from claims.checks.ocr_checks import ocr_checks
from claims.dealers.checks import invoice_in_dealer_sales
from claims.fraud.services import fraud_checks
from claims.intake import validators as v
from claims.models import Claim, ClaimCheck, ClaimDocument
from claims.money import money_display
from claims.vocabulary import CHECK_CODES, CheckResult, FuelType

log = logging.getLogger(__name__)

PASS, FAIL, UNKNOWN = CheckResult.PASS.value, CheckResult.FAIL.value, CheckResult.UNKNOWN.value


def _check(code: str, result: str, detail: str) -> dict:
    return {"code": code, "result": result, "detail": detail}


def declared_checks(claim: Claim) -> list[dict]:
    """The checks that need only the declared values and the stored files."""
    results = []
    kind = v.plate_kind(claim.plate_number)
    expected = "nev" if claim.fuel_type == FuelType.NEV else "ordinary"
    results.append(
        _check(
            "plate_matches_fuel_type",
            PASS if kind == expected else FAIL,
            _("车牌 %(p)s 为%(k)s号牌，申报车辆类型为%(f)s")
            % {
                "p": claim.plate_number,
                "k": _("新能源") if kind == "nev" else _("普通"),
                "f": claim.get_fuel_type_display(),
            },
        )
    )
    dealers = {d.credit_code: d.name for d in claim.program.dealers.all()}
    if not dealers:
        results.append(_check("dealer_eligible", PASS, _("本项目未限定经销商名单")))
    elif claim.dealer_credit_code in dealers:
        results.append(
            _check(
                "dealer_eligible",
                PASS,
                _("销售方 %(n)s 在备案名单中") % {"n": dealers[claim.dealer_credit_code]},
            )
        )
    else:
        results.append(
            _check(
                "dealer_eligible", FAIL, _("销售方 %(c)s 不在备案名单中") % {"c": claim.dealer_credit_code}
            )
        )
    minimum = claim.program.min_pos_amount
    results.append(
        _check(
            "pos_amount_over_minimum",
            PASS if claim.pos_amount > minimum else FAIL,
            _("POS 刷卡金额 %(a)s，最低要求大于 %(m)s")
            % {"a": money_display(claim.pos_amount), "m": money_display(minimum)},
        )
    )
    luhn = v.luhn_ok(claim.bank_account)
    results.append(
        _check(
            "bank_account_checksum",
            PASS if luhn else FAIL,
            _("银行卡号 %(a)s 校验位%(r)s")
            % {"a": claim.bank_account_masked, "r": _("正确") if luhn else _("不符，请核对卡号")},
        )
    )
    hashes = list(claim.documents.filter(is_current=True).values_list("kind", "sha256"))
    reused = (
        ClaimDocument.objects.filter(sha256__in=[h for _k, h in hashes])
        .exclude(claim=claim)
        .select_related("claim")
        .order_by("claim__seq")
    )
    if reused:
        numbers = sorted({d.claim.claim_number for d in reused})
        results.append(
            _check(
                "duplicate_document",
                FAIL,
                _("有材料与其他申请上传的文件完全相同：%(n)s") % {"n": "、".join(numbers[:5])},
            )
        )
    else:
        results.append(_check("duplicate_document", PASS, _("材料未被其他申请使用")))
    return results


def claim_refresh_checks(claim_id: int, *, related: bool = True) -> list[ClaimCheck]:
    """Recompute every check of a claim from its declared values, documents and OCR readings, and store them.

    With `related`, the claims that share a card, a phone or an image with this one are refreshed too (once, not
    transitively), so the earlier claim of a pair also shows the shared signal.
    """
    claim = Claim.objects.select_related("program").get(pk=claim_id)
    results = declared_checks(claim)
    results.append(invoice_in_dealer_sales(claim))
    signals, others = fraud_checks(claim)
    results += signals
    by_code = {r["code"]: r for r in results + ocr_checks(claim)}
    for code in CHECK_CODES:
        by_code.setdefault(code, _check(code, UNKNOWN, _("等待材料识别结果")))
    now = timezone.now()
    rows = [
        ClaimCheck(
            claim=claim,
            code=code,
            result=by_code[code]["result"],
            detail=by_code[code]["detail"][:1000],
            updated_at=now,
        )
        for code in CHECK_CODES
    ]
    # One upsert instead of a read and a write per check: this runs on every submission.
    stored = ClaimCheck.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["claim", "code"],
        update_fields=["result", "detail", "updated_at"],
    )
    if related and others:
        # Only the claims that do not show the shared signal yet: a card, phone or image shared by many claims
        # would otherwise recompute every one of them on each new claim.
        failing = {r["code"] for r in signals if r["result"] == CheckResult.FAIL}
        shown: dict[int, set[str]] = {}
        for other_id, code in ClaimCheck.objects.filter(
            claim_id__in=others, code__in=failing, result=CheckResult.FAIL
        ).values_list("claim_id", "code"):
            shown.setdefault(other_id, set()).add(code)
        for other in sorted(others):
            if not failing or not failing <= shown.get(other, set()):
                claim_refresh_checks(other, related=False)
    return stored
