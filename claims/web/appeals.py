"""The buyers' pages for an appeal against a rejection and for a forgotten claim number (no JavaScript needed)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from claims.appeals.services import claim_appeal, claim_appeal_view
from claims.errors import ServiceError
from claims.intake.models import DocumentKind
from claims.models import Claim
from claims.notifications.api import recovery_message, recovery_parse
from claims.notifications.services import claim_number_recover
from claims.web.views import _claim_context, _require_claim, _throttle_error, _throttled

MAX_REASON = 2000


def _errors(exc: ServiceError) -> list[str]:
    found = [e.message for errors in exc.fields.values() for e in errors]
    return found or [exc.message]


@require_http_methods(["GET", "HEAD", "POST"])
@_require_claim
def appeal(request: HttpRequest, claim: Claim) -> HttpResponse:
    """Appeal a rejection: a reason and, optionally, new documents replacing those of their kind."""
    context: dict[str, Any] = {
        **_claim_context(claim),
        "appeal": claim_appeal_view(claim),
        "documents": [(kind.value, kind.label) for kind in DocumentKind],
        "reason": "",
        "errors": [],
    }
    if request.method != "POST":
        return render(request, "public/appeal.html", context)
    context["reason"] = (request.POST.get("reason") or "")[:MAX_REASON]
    if _throttled(request, "lookup"):
        context["errors"] = [_throttle_error().message]
        return render(request, "public/appeal.html", context, status=429)
    try:
        claim_appeal(claim.claim_number, claim.id_number, context["reason"], request.FILES, request=request)
    except ServiceError as exc:
        context["errors"] = _errors(exc)
        return render(request, "public/appeal.html", context, status=exc.status)
    messages.success(request, _("申诉已提交，将由另一名审核员复核，结果会短信通知您。"))
    return redirect("web:claim", claim_number=claim.claim_number)


@require_http_methods(["GET", "HEAD", "POST"])
def recover(request: HttpRequest) -> HttpResponse:
    """Forgot the claim number: it is sent by SMS to the applicant's phone, never shown here."""
    context: dict[str, Any] = {"errors": [], "sent": False, "id_number": "", "phone": ""}
    if request.method != "POST":
        return render(request, "public/recover.html", context)
    context["phone"] = (request.POST.get("phone") or "")[:20]
    if _throttled(request, "recover"):
        context["errors"] = [_throttle_error().message]
        return render(request, "public/recover.html", context, status=429)
    try:
        id_number, phone = recovery_parse(request.POST)
    except ServiceError as exc:
        context["errors"] = _errors(exc)
        return render(request, "public/recover.html", context, status=exc.status)
    claim_number_recover(id_number, phone)
    context.update(sent=True, message=recovery_message(), phone="")
    return render(request, "public/recover.html", context)
