"""The buyers' pages: programs, the application, and "my claim".

Views parse the request, call one service, and format the answer; every rule lives in the services, whose field
errors are rendered next to their fields. The ID number never appears in a URL: a successful lookup (or
submission) records the claim number in the session, and the follow-up pages use that.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from claims.crypto import mask_name
from claims.errors import FieldError, ServiceError, ValidationFailed
from claims.intake.applicant import claim_for_applicant, claim_withdraw
from claims.intake.models import ClaimStatus, DocumentKind
from claims.intake.selectors import claim_for_applicant_view
from claims.intake.services import claim_submit
from claims.intake.transitions import ALLOWED
from claims.models import Claim
from claims.money import money_display, parse_money
from claims.payouts.services import claim_bank_account_change
from claims.programs.selectors import program_public, programs_with_waitlist
from claims.programs.services import subsidy_quote
from claims.review.services import claim_correct
from claims.vocabulary import BANK_FIELDS, FuelType
from claims.web import forms

SESSION_KEY = "web_claims"
ACCESS_IDLE_SECONDS = 30 * 60
# Conflicts that belong to one field: shown there as well as in the summary.
CONFLICT_FIELDS = {"duplicate_vehicle": "vin", "duplicate_invoice": "invoice_number"}


# --- Rate limits: the API's scopes and counters ---------------------------------------------------------------


class PageThrottle(ScopedRateThrottle):
    """DRF's scoped throttle for plain Django views, sharing the API's cache keys (scope + client address)."""

    @property
    def THROTTLE_RATES(self):  # noqa: N802 - DRF's attribute name; read live so settings overrides apply
        return api_settings.DEFAULT_THROTTLE_RATES

    def get_cache_key(self, request, view):
        # The public API views authenticate nobody, so their key is always the client address; so is ours.
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


def _throttled(request: HttpRequest, scope: str) -> bool:
    return not PageThrottle().allow_request(request, SimpleNamespace(throttle_scope=scope))


def _throttle_error() -> ServiceError:
    return ServiceError("throttled", _("请求过于频繁，请稍后再试"), status=429)


# --- Session access to claims ------------------------------------------------------------------------------------


def _grant(request: HttpRequest, claim_number: str) -> None:
    granted = dict(request.session.get(SESSION_KEY, {}))
    if not granted:
        request.session.cycle_key()  # new rights, new session id
    granted[claim_number] = int(time.time())
    request.session[SESSION_KEY] = granted


def _granted_claim(request: HttpRequest, claim_number: str) -> Claim | None:
    granted = dict(request.session.get(SESSION_KEY, {}))
    at = granted.get(claim_number)
    if at is None or time.time() - at > ACCESS_IDLE_SECONDS:
        return None
    granted[claim_number] = int(time.time())
    request.session[SESSION_KEY] = granted
    return Claim.objects.select_related("program").filter(claim_number=claim_number).first()


def _to_lookup(claim_number: str = "") -> HttpResponse:
    url = reverse("web:lookup")
    return redirect(f"{url}?{urlencode({'n': claim_number})}" if claim_number else url)


def _require_claim(view: Callable) -> Callable:
    def wrapped(request: HttpRequest, claim_number: str, *args, **kwargs):
        claim = _granted_claim(request, claim_number)
        if claim is None:
            return _to_lookup(claim_number)
        return view(request, claim, *args, **kwargs)

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


# --- Formatting ----------------------------------------------------------------------------------------------------


def yuan(value: str | Decimal | None) -> str:
    if value is None or value == "":
        return ""
    return money_display(Decimal(value))


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def _tiers_display(info: dict, highlight: int | None = None) -> list[dict[str, Any]]:
    rows = []
    for i, tier in enumerate(info["tiers"]):
        if tier["up_to"] is None:
            band = _("%(a)s 以上") % {"a": yuan(tier["above"])}
        else:
            band = _("%(a)s 以上至 %(b)s（含）") % {"a": yuan(tier["above"]), "b": yuan(tier["up_to"])}
        rows.append(
            {
                "number": i + 1,
                "band": band,
                **{fuel: yuan(tier["amounts"][fuel]) for fuel in FuelType.values},
                "applied": highlight == i + 1,
            }
        )
    return rows


STATUS_WORDS = {
    "upcoming": gettext_lazy("尚未开始受理"),
    "open": gettext_lazy("正在受理"),
    "exhausted": gettext_lazy("预算已预留完，新申请进入候补队列"),
    "closed": gettext_lazy("受理已结束"),
}


def _program_display(info: dict) -> dict[str, Any]:
    budget = info["budget"]
    total = Decimal(budget["total"])
    used = Decimal(budget["reserved"]) + Decimal(budget["paid"])
    status = info["status"]
    if status == "exhausted" and not info["waitlist_enabled"]:
        status_words = _("补贴资金已用完")
    else:
        status_words = STATUS_WORDS[status]
    return {
        **info,
        "status_words": status_words,
        "accepting": status == "open" or (status == "exhausted" and info["waitlist_enabled"]),
        "budget_display": {k: yuan(v) for k, v in budget.items()},
        "used_percent": int(used * 100 / total) if total else 100,
        "claim_window_dates": {k: _date(v) for k, v in info["claim_window"].items()},
        "purchase_window_dates": {k: _date(v) for k, v in info["purchase_window"].items()},
        "min_pos_display": yuan(info["min_pos_amount"]),
        "lowest_display": yuan(info["tiers"][0]["above"]) if info["tiers"] else "",
    }


def _quote(program, raw_amount: str, fuel_type: str) -> dict[str, Any] | None:
    """The calculator's answer: the subsidy, the tier that applied, and why (None when nothing was asked)."""
    raw_amount = (raw_amount or "").strip()
    if not raw_amount:
        return None
    amount = parse_money(raw_amount)
    if amount is None or amount < 0:
        return {
            "eligible": False,
            "code": "invalid_amount",
            "message": _("请填写正确的发票金额（元，最多两位小数）"),
        }
    quote = subsidy_quote(list(program.tiers.all()), amount, fuel_type)
    if not quote.eligible:
        return {"eligible": False, "code": quote.code, "message": quote.message, "amount": yuan(amount)}
    tiers = sorted(program.tiers.all(), key=lambda t: t.above)
    number = next(i + 1 for i, t in enumerate(tiers) if t.pk == quote.tier.pk)
    fuel_words = dict(forms.FUEL_CHOICES)[fuel_type]
    if quote.tier.up_to is None:
        why = _("发票金额 %(x)s 高于 %(a)s，属于第 %(n)d 档。") % {
            "x": yuan(amount),
            "a": yuan(quote.tier.above),
            "n": number,
        }
    else:
        why = _("发票金额 %(x)s 高于 %(a)s、不超过 %(b)s，属于第 %(n)d 档。") % {
            "x": yuan(amount),
            "a": yuan(quote.tier.above),
            "b": yuan(quote.tier.up_to),
            "n": number,
        }
    return {
        "eligible": True,
        "amount": yuan(amount),
        "subsidy": yuan(quote.amount),
        "tier_number": number,
        "fuel_words": fuel_words,
        "why": why,
    }


def _events_display(view: dict) -> list[dict[str, Any]]:
    return [{**e, "at": parse_datetime(e["at"])} for e in view["events"]]


def _js_text() -> dict[str, str]:
    """The few words the enhancement script writes into the page, translated here (UI text goes through i18n)."""
    return {
        "quote": _("预计补贴 %(x)s"),
        "band_open": _("%(a)s 以上"),
        "band": _("%(a)s 以上至 %(b)s（含）"),
        "why": _("发票金额 %(x)s 属于 %(band)s 这一档。"),
        "chosen": _("已选择：%(x)s"),
        "network": _("网络连接中断，请检查网络后再次点击提交（不会重复提交）。"),
    }


# --- Programs ------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
def program_list(request: HttpRequest) -> HttpResponse:
    programs = [
        _program_display(program_public(p)) for p in programs_with_waitlist().prefetch_related("dealers")
    ]
    return render(request, "public/program_list.html", {"programs": programs})


@require_http_methods(["GET", "HEAD"])
def program_detail(request: HttpRequest, code: str) -> HttpResponse:
    program = get_object_or_404(programs_with_waitlist().prefetch_related("dealers"), code=code)
    info = _program_display(program_public(program))
    fuel_type = request.GET.get("fuel_type", FuelType.NEV)
    if fuel_type not in FuelType.values:
        fuel_type = FuelType.NEV
    amount = request.GET.get("invoice_amount", "")
    quote = _quote(program, amount, fuel_type)
    context = {
        "program": info,
        "tiers": _tiers_display(info, quote.get("tier_number") if quote else None),
        "calc": {"invoice_amount": amount[:20], "fuel_type": fuel_type, "choices": forms.FUEL_CHOICES},
        "quote": quote,
        "documents": [(k.label, forms.DOCUMENT_HELP[k]) for k in DocumentKind],
    }
    return render(request, "public/program_detail.html", context)


# --- The application ------------------------------------------------------------------------------------------


def _render_apply(
    request, program, info, *, values=None, errors=None, summary=None, status=200
) -> HttpResponse:
    errors = errors or {}
    quote = None
    if values:
        quote = _quote(program, values.get("invoice_amount", ""), values.get("fuel_type", ""))
    context = {
        "program": info,
        "steps": forms.bind_steps(values, errors, dealers=info["dealers"]),
        "declaration": forms.bind_field("declaration", values, errors),
        "declared": bool(values and values.get("declaration")),
        "summary": summary or [],
        "field_summary": forms.error_summary(errors),
        "quote": quote,
        # One token per rendering of the form: a double click or a retried post replays the first answer.
        "idempotency_key": uuid.uuid4().hex,
        "quote_url": reverse("api:program-quote", args=[program.code]),
        "js_text": _js_text(),
    }
    return render(request, "public/apply.html", context, status=status)


def _service_error_context(exc: ServiceError) -> tuple[dict[str, list[FieldError]], list[str]]:
    """Field errors keyed by field, and the messages that belong to no field."""
    if isinstance(exc, ValidationFailed):
        fields = dict(exc.fields)
        other = [e.message for e in fields.pop("non_field_errors", [])]
        return fields, other
    if exc.code == "idempotency_key_reused":
        return {}, [_("此表单已经提交过。请刷新页面后重新填写。")]
    if exc.code in CONFLICT_FIELDS:
        return {CONFLICT_FIELDS[exc.code]: [FieldError(exc.code, exc.message, CONFLICT_FIELDS[exc.code])]}, []
    return {}, [exc.message]


@require_http_methods(["GET", "HEAD", "POST"])
def apply(request: HttpRequest, code: str) -> HttpResponse:
    program = get_object_or_404(programs_with_waitlist().prefetch_related("dealers"), code=code)
    info = _program_display(program_public(program))
    if request.method != "POST":
        return _render_apply(request, program, info)
    values = request.POST
    if _throttled(request, "submit"):
        return _render_apply(
            request, program, info, values=values, summary=[_throttle_error().message], status=429
        )
    if not values.get("declaration"):
        errors = {"declaration": [FieldError("required", _("请阅读并勾选真实性承诺"), "declaration")]}
        return _render_apply(request, program, info, values=values, errors=errors, status=400)
    key = values.get("idempotency_key", "").strip()[:128] or None
    try:
        result = claim_submit(program.code, values, request.FILES, idempotency_key=key)
    except ServiceError as exc:
        errors, other = _service_error_context(exc)
        return _render_apply(
            request, program, info, values=values, errors=errors, summary=other, status=exc.status
        )
    claim_number = result.body["claim_number"]
    _grant(request, claim_number)
    return _go(request, "web:submitted", claim_number)


@require_http_methods(["GET", "HEAD"])
@_require_claim
def submitted(request: HttpRequest, claim: Claim) -> HttpResponse:
    view = claim_for_applicant_view(claim)
    return render(
        request,
        "public/submitted.html",
        {"claim": view, "subsidy": yuan(view["subsidy_amount"]), "program": claim.program},
    )


# --- My claim ----------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD", "POST"])
def lookup(request: HttpRequest) -> HttpResponse:
    claim_number = (request.POST.get("claim_number") or request.GET.get("n") or "").strip().upper()[:32]
    context: dict[str, Any] = {"claim_number": claim_number, "error": None}
    if request.method != "POST":
        return render(request, "public/lookup.html", context)
    if _throttled(request, "lookup"):
        context["error"] = _throttle_error().message
        return render(request, "public/lookup.html", context, status=429)
    try:
        claim = claim_for_applicant(claim_number, (request.POST.get("id_number") or "").strip()[:32])
    except ServiceError as exc:
        context["error"] = exc.message
        return render(request, "public/lookup.html", context, status=exc.status)
    _grant(request, claim.claim_number)
    return redirect("web:claim", claim_number=claim.claim_number)


@require_http_methods(["POST"])
def forget(request: HttpRequest) -> HttpResponse:
    request.session.pop(SESSION_KEY, None)
    messages.info(request, _("已退出查询。"))
    return redirect("web:lookup")


def _claim_context(claim: Claim) -> dict[str, Any]:
    view = claim_for_applicant_view(claim)
    returned = view.get("returned")
    if returned:
        returned = {
            **returned,
            "field_labels": [forms.field_label(n) for n in returned["fields"]],
            "document_labels": [forms.field_label(n) for n in returned["documents"]],
            "deadline_date": _date(returned["deadline"]),
        }
    payment = view.get("payment")
    if payment:
        payment = {
            **payment,
            "paid_at_dt": parse_datetime(payment["paid_at"]) if payment["paid_at"] else None,
        }
    return {
        "claim": view,
        "returned": returned,
        "payment": payment,
        "events": _events_display(view),
        "subsidy": yuan(view["subsidy_amount"]),
        "program": claim.program,
        "masked": {
            "name": mask_name(claim.applicant_name),
            "id_number": claim.id_number_masked,
            "phone": claim.phone_masked,
            "bank_account": claim.bank_account_masked,
            "bank_name": claim.bank_name,
        },
        "can_withdraw": ClaimStatus.WITHDRAWN in ALLOWED[claim.status],
    }


@require_http_methods(["GET", "HEAD"])
@_require_claim
def claim_detail(request: HttpRequest, claim: Claim) -> HttpResponse:
    return render(request, "public/claim_detail.html", _claim_context(claim))


@require_http_methods(["GET", "HEAD", "POST"])
@_require_claim
def withdraw(request: HttpRequest, claim: Claim) -> HttpResponse:
    context = {**_claim_context(claim), "error": None}
    if request.method != "POST":
        return render(request, "public/withdraw.html", context)
    if _throttled(request, "lookup"):
        context["error"] = _throttle_error().message
        return render(request, "public/withdraw.html", context, status=429)
    if not request.POST.get("confirm"):
        context["error"] = _("请勾选确认后再撤回。")
        return render(request, "public/withdraw.html", context, status=400)
    try:
        claim_withdraw(claim.claim_number, claim.id_number)
    except ServiceError as exc:
        context["error"] = exc.message
        return render(request, "public/withdraw.html", context, status=exc.status)
    messages.success(request, _("申请已撤回，预留的补贴资金已释放。"))
    return redirect("web:claim", claim_number=claim.claim_number)


def _go(request: HttpRequest, name: str, claim_number: str) -> HttpResponse:
    """Redirect after a successful post. The enhancement script posts with XHR, which would follow (and use up
    the flash message of) a redirect itself, so it is told where to go instead."""
    url = reverse(name, kwargs={"claim_number": claim_number})
    if request.headers.get("X-Requested-With") == "XMLHttpRequest":
        response = HttpResponse(status=204)
        response["X-Redirect-To"] = url
        return response
    return redirect(url)


def _follow_up(
    request: HttpRequest,
    claim: Claim,
    *,
    template: str,
    status_needed: str,
    fields: tuple[str, ...],
    service: Callable[..., Any],
    scope: str,
    with_files: bool,
    done_message: str,
) -> HttpResponse:
    """A form on a claim in one status (correction, new bank details): render, call the service, show errors."""
    if claim.status != status_needed:
        return redirect("web:claim", claim_number=claim.claim_number)
    base = _claim_context(claim)
    current = {n: getattr(claim, n, "") for n in fields if n not in DocumentKind.values}

    def render_form(values, errors=None, other=None, status=200):
        names = [n for n in fields if n not in DocumentKind.values]
        docs = [n for n in fields if n in DocumentKind.values]
        context = {
            **base,
            "fields": [forms.bind_field(n, values, errors) for n in names],
            "doc_fields": [forms.bind_field(n, values, errors) for n in docs],
            "field_summary": forms.error_summary(errors or {}),
            "summary": other or [],
            "js_text": _js_text(),
        }
        return render(request, template, context, status=status)

    if request.method != "POST":
        return render_form(current)
    if _throttled(request, scope):
        return render_form(request.POST, other=[_throttle_error().message], status=429)
    try:
        if with_files:
            service(claim.claim_number, claim.id_number, request.POST, request.FILES)
        else:
            service(claim.claim_number, claim.id_number, request.POST, request=request)
    except ServiceError as exc:
        errors, other = _service_error_context(exc)
        return render_form(request.POST, errors, other, status=exc.status)
    messages.success(request, done_message)
    return _go(request, "web:claim", claim.claim_number)


@require_http_methods(["GET", "HEAD", "POST"])
@_require_claim
def correct(request: HttpRequest, claim: Claim) -> HttpResponse:
    fields = tuple(claim.returned_fields or ()) + tuple(claim.returned_documents or ())
    if not fields:  # the reviewer named nothing: anything but the ID number may be corrected
        fields = tuple(n for _key, _title, names in forms.STEPS for n in names if n != "id_number")
    return _follow_up(
        request,
        claim,
        template="public/correct.html",
        status_needed=ClaimStatus.RETURNED,
        fields=tuple(n for n in fields if n in forms.FIELDS),
        service=claim_correct,
        scope="submit",
        with_files=True,
        done_message=_("补正材料已提交，申请重新进入审核，排队位置不变。"),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@_require_claim
def bank_account(request: HttpRequest, claim: Claim) -> HttpResponse:
    return _follow_up(
        request,
        claim,
        template="public/bank_account.html",
        status_needed=ClaimStatus.PAYOUT_FAILED,
        fields=BANK_FIELDS,
        service=claim_bank_account_change,
        scope="lookup",
        with_files=False,
        done_message=_("新的收款账户已提交，我们将重新发放补贴。"),
    )
