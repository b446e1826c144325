"""The staff admin: the reviewers' queue and review page, counter intake, dashboard, audit trail.

What each role may do is decided by `claims.accounts.roles`, not by Django model permissions. Nothing here changes data
except through the services: a claim's status is never a form field, and the audit log is read-only.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.accounts.admin import RoleAdmin
from claims.accounts.roles import CLAIM_READERS, CLERK, REVIEWER, has_role
from claims.appeals.services import appeal_decide, appeal_staff_view
from claims.errors import ServiceError, ValidationFailed
from claims.intake.models import ClaimStatus, DocumentKind
from claims.intake.uploads import upload_field
from claims.models import Claim, ClaimCheck, Program, Tier
from claims.money import money_display
from claims.review import services as review
from claims.review.counter import DATE_FIELDS, counter_scans_stage
from claims.review.pii import claim_staff_view
from claims.review.search import claim_full_number_search, get_search_refused
from claims.review.selectors import (
    claim_search_q,
    dashboard_data,
    is_full_number,
    next_claim_to_review,
    staff_claims,
)
from claims.vocabulary import (
    CHECK_LABELS,
    DECLARED_FIELD_NAMES,
    DOCUMENT_KINDS,
    OPTIONAL_FIELDS,
    CheckResult,
    field_label,
)
from ocr.labels import FIELD_LABELS, confidence_words

# --- Claims ------------------------------------------------------------------------------------------------------


class FailingCheckFilter(admin.SimpleListFilter):
    title = gettext_lazy("未通过的核验项")
    parameter_name = "failing_check"

    def lookups(self, request, model_admin):
        return list(CHECK_LABELS.items())

    def queryset(self, request, queryset):
        if self.value():
            failing = ClaimCheck.objects.filter(code=self.value(), result=ClaimCheck.Result.FAIL)
            return queryset.filter(pk__in=failing.values("claim_id"))
        return queryset


class TierFilter(admin.SimpleListFilter):
    title = gettext_lazy("档次")
    parameter_name = "tier"

    def lookups(self, request, model_admin):
        positions = sorted(set(Tier.objects.values_list("position", flat=True)))
        return [(str(n), _("第 %(n)s 档") % {"n": n + 1}) for n in positions]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(tier_position=int(self.value()))
        return queryset


class CorrectionFlagFilter(admin.SimpleListFilter):
    title = gettext_lazy("补正后金额待核")
    parameter_name = "amount_flag"

    def lookups(self, request, model_admin):
        return [("1", _("有"))]

    def queryset(self, request, queryset):
        return queryset.filter(requested_subsidy_amount__isnull=False) if self.value() == "1" else queryset


STATUS_COLOURS = {
    ClaimStatus.UNDER_REVIEW: "#205493",
    ClaimStatus.WAITLISTED: "#6b6b6b",
    ClaimStatus.RETURNED: "#b26a00",
    ClaimStatus.APPROVED: "#2e7d32",
    ClaimStatus.PAID: "#1b5e20",
    ClaimStatus.PAYOUT_FAILED: "#c62828",
    ClaimStatus.REJECTED: "#8e0000",
    ClaimStatus.WITHDRAWN: "#6b6b6b",
}


@admin.register(Claim)
class ClaimAdmin(RoleAdmin):
    list_display = (
        "claim_number",
        "status_badge",
        "subsidy",
        "fuel_type",
        "tier",
        "failed_checks_display",
        "age",
        "applicant_name",
        "plate_number",
        "channel",
    )
    list_filter = (
        "status",
        "fuel_type",
        FailingCheckFilter,
        TierFilter,
        "channel",
        CorrectionFlagFilter,
        "program",
    )
    search_fields = ("claim_number",)  # replaced by get_search_results: exact matches and keyed hashes only
    search_help_text = gettext_lazy("按申请编号、车架号、车牌号、身份证号、手机号或银行卡号精确查找")
    # By the columns of the unique (program, seq) index: "program" would sort by Program's own ordering (a join
    # and a sort of every row).
    ordering = ("program_id", "seq")
    # No bulk decisions: each claim is decided on its own review page, by a reviewer who opened it.
    actions = None
    change_form_template = "claims/admin/claim_review.html"

    def get_queryset(self, request):
        return staff_claims()

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
        if is_full_number(search_term):
            # A full personal number in a URL ends up in access logs: refused, the number is not echoed back.
            self.message_user(request, get_search_refused().message, messages.WARNING)
            return queryset.none(), False
        return queryset.filter(claim_search_q(search_term)), False

    def has_review_permission(self, request) -> bool:
        return has_role(request.user, REVIEWER)

    # Columns ------------------------------------------------------------------------------------------------
    @admin.display(description=gettext_lazy("状态"), ordering="status")
    def status_badge(self, obj: Claim):
        return format_html(
            '<span style="color:{};font-weight:bold">{}</span>',
            STATUS_COLOURS.get(obj.status, "#000"),
            obj.get_status_display(),
        )

    @admin.display(description=gettext_lazy("补贴金额"), ordering="subsidy_amount")
    def subsidy(self, obj: Claim):
        if obj.requested_subsidy_amount is not None:
            return format_html(
                '{} <span title="{}" style="color:#b26a00">⚑ {}</span>',
                money_display(obj.subsidy_amount),
                _("补正后应补金额，预算不足未调整"),
                money_display(obj.requested_subsidy_amount),
            )
        return money_display(obj.subsidy_amount)

    @admin.display(description=gettext_lazy("档次"), ordering="tier_position")
    def tier(self, obj: Claim):
        return obj.tier_position + 1

    @admin.display(description=gettext_lazy("未通过核验"))
    def failed_checks_display(self, obj: Claim):
        failed = getattr(obj, "failed_checks", [])
        if not failed:
            return "—"
        return format_html_join(
            mark_safe("<br>"),
            '<span style="color:#c62828">{}</span>',
            ((CHECK_LABELS.get(c.code, c.code),) for c in failed),
        )

    @admin.display(description=gettext_lazy("已等待"), ordering="submitted_at")
    def age(self, obj: Claim):
        days = (timezone.localdate() - timezone.localtime(obj.submitted_at).date()).days
        return _("%(d)s 天") % {"d": days}

    # Extra pages --------------------------------------------------------------------------------------------
    def get_urls(self):
        extra = [
            path(
                "dashboard/", self.admin_site.admin_view(self.dashboard_view), name="claims_claim_dashboard"
            ),
            path("counter/", self.admin_site.admin_view(self.counter_view), name="claims_claim_counter"),
            path("search/", self.admin_site.admin_view(self.search_view), name="claims_claim_search"),
        ]
        return extra + super().get_urls()

    def dashboard_view(self, request):
        if not has_role(request.user, *CLAIM_READERS):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("工作台"),
            "rows": dashboard_data(),
            "statuses": ClaimStatus,
            "opts": self.opts,
        }
        return TemplateResponse(request, "claims/admin/dashboard.html", context)

    def search_view(self, request):
        """Search by a full ID number, phone or bank card number: a form that POSTs, never a URL parameter."""
        if not has_role(request.user, *CLAIM_READERS):
            raise PermissionDenied
        found, error, searched = [], "", False
        if request.method == "POST":
            searched = True
            try:
                found = claim_full_number_search(
                    request.POST.get("number", ""), request.user, request=request
                )
            except ServiceError as exc:
                error = exc.message
        context = {
            **self.admin_site.each_context(request),
            "title": _("完整号码查找"),
            "found": found,
            "error": error,
            "searched": searched,
            "opts": self.opts,
        }
        return TemplateResponse(request, "claims/admin/claim_search.html", context)

    def counter_view(self, request):
        if not has_role(request.user, REVIEWER, CLERK):
            raise PermissionDenied
        staged: dict = {}
        data = request.POST or None
        scan_errors: list = []
        if request.method == "POST":
            # Scans are staged at once, so an error below never makes the clerk scan them again.
            data, staged, scan_errors = counter_scans_stage(request.POST, request.FILES, request.user)
        form = CounterIntakeForm(data)
        if request.method == "POST" and form.is_valid():
            try:
                if scan_errors:
                    raise ValidationFailed(scan_errors)
                result = review.counter_intake(
                    form.cleaned_data["program"], data, {}, clerk=request.user, request=request
                )
            except ServiceError as exc:
                for name, errors in exc.fields.items():
                    for error in errors:
                        form.add_error(name if name in form.fields else None, error.message)
                if not exc.fields:
                    form.add_error(None, exc.message)
            else:
                claim = result.claim
                self.message_user(
                    request,
                    _("已受理：申请编号 %(n)s，状态：%(s)s")
                    % {"n": claim.claim_number, "s": claim.get_status_display()},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:claims_claim_change", args=[claim.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": _("窗口受理"),
            "form": form,
            "staged": {kind: row.original_name or kind for kind, row in staged.items()},
            "staged_ids": {upload_field(kind): row.upload_id for kind, row in staged.items()},
            "opts": self.opts,
        }
        return TemplateResponse(request, "claims/admin/counter_intake.html", context)

    # The review page ----------------------------------------------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        if not str(object_id).isascii() or not str(object_id).isdigit() or len(str(object_id)) > 18:
            raise Http404
        claim = get_object_or_404(Claim.objects.select_related("program"), pk=int(object_id))
        if request.method == "POST":
            return self._decide(request, claim)
        data = claim_staff_view(
            claim.claim_number,
            user=request.user,
            request=request,
            document_url=lambda d: reverse("api:staff-document", args=[d.pk]),
            where="admin",
        )
        comparison = data["ocr_comparison"]
        mismatched = {row["declared_field"] for row in comparison if row["match"] is False}
        declared_rows = [
            {
                "name": name,
                "label": field_label(name),
                "value": data[name],
                "mismatch": name in mismatched,
                "readings": [r for r in comparison if r["declared_field"] == name],
            }
            for name in DECLARED_FIELD_NAMES
        ]
        for row in comparison:
            row["field_label"] = FIELD_LABELS.get(row["ocr_field"], row["ocr_field"])
            row["declared_label"] = field_label(row["declared_field"])
            row["confidence_label"] = confidence_words(row["read"], row["confident"])
        documents = []
        # the invoice first: the amount it carries is what the claim is about
        order = {kind: i for i, kind in enumerate(DOCUMENT_KINDS)}
        for doc in sorted(data["documents"], key=lambda d: (order.get(d["kind"], len(order)), d["id"])):
            readings = [r for r in comparison if r["kind"] == doc["kind"]]
            ocr = data["ocr"].get(doc["kind"])
            documents.append(
                {
                    **doc,
                    "readings": readings,
                    "ocr_pending": ocr is None,
                    "ocr_problem": ocr.get("detail") if isinstance(ocr, dict) and "status" in ocr else "",
                    "is_pdf": doc["content_type"] == "application/pdf",
                    "is_image": doc["content_type"].startswith("image/"),
                }
            )
        checks = [
            {
                **c,
                "label": CHECK_LABELS.get(c["code"], c["code"]),
                "result_label": CheckResult(c["result"]).label,
            }
            for c in data["checks"]
        ]
        next_claim = next_claim_to_review(claim)
        context = {
            **self.admin_site.each_context(request),
            "title": _("审核申请 %(n)s") % {"n": claim.claim_number},
            "opts": self.opts,
            "original": claim,
            "claim": claim,
            "data": data,
            "declared_rows": declared_rows,
            "documents": documents,
            "checks": checks,
            "can_decide": has_role(request.user, REVIEWER)
            and claim.status == ClaimStatus.UNDER_REVIEW
            and claim.taken_by_id != request.user.pk,
            "entered_by_me": claim.taken_by_id is not None and claim.taken_by_id == request.user.pk,
            "return_reasons": review.reason_choices("return"),
            "reject_reasons": review.reason_choices("reject"),
            "returnable_fields": [(n, field_label(n)) for n in review.RETURNABLE_FIELDS],
            "returnable_documents": list(DocumentKind.choices),
            "next_claim": next_claim,
            "appeal": appeal_staff_view(claim, request.user),
            "has_view_permission": True,
            **(extra_context or {}),
        }
        return TemplateResponse(request, self.change_form_template, context)

    def _decide(self, request, claim: Claim):
        if not has_role(request.user, REVIEWER):
            raise PermissionDenied
        action = request.POST.get("action", "")
        post = request.POST
        try:
            if action == "approve":
                review.claim_approve(
                    claim.claim_number,
                    actor=request.user,
                    note=post.get("note", ""),
                    require_opened=True,
                    request=request,
                )
                done = _("已审核通过")
            elif action == "reject":
                review.claim_reject(
                    claim.claim_number,
                    actor=request.user,
                    reason_code=post.get("reason_code", ""),
                    reason=post.get("reason", ""),
                    note=post.get("note", ""),
                    require_opened=True,
                    require_reason_code=True,
                    request=request,
                )
                done = _("已驳回")
            elif action == "return":
                review.claim_return(
                    claim.claim_number,
                    actor=request.user,
                    reason_code=post.get("reason_code", ""),
                    reason=post.get("reason", ""),
                    fields=post.getlist("fields"),
                    documents=post.getlist("documents"),
                    note=post.get("note", ""),
                    require_items=True,
                    require_reason_code=True,
                    request=request,
                )
                done = _("已退回补正")
            elif action == "appeal":
                appeal_decide(
                    claim.claim_number,
                    actor=request.user,
                    decision=post.get("decision", ""),
                    note=post.get("note", ""),
                    request=request,
                )
                done = _("申诉已复核")
            else:
                raise ServiceError("invalid_action", _("未知的操作"))
        except ServiceError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(reverse("admin:claims_claim_change", args=[claim.pk]))
        self.message_user(request, f"{claim.claim_number}：{done}", messages.SUCCESS)
        next_claim = next_claim_to_review(claim)
        if next_claim is not None:
            return HttpResponseRedirect(reverse("admin:claims_claim_change", args=[next_claim.pk]))
        return HttpResponseRedirect(reverse("admin:claims_claim_changelist") + "?status__exact=under_review")


class CounterIntakeForm(forms.Form):
    """Renders the counter intake page; the service does all validation (the same as online)."""

    program = forms.ChoiceField(label=gettext_lazy("补贴项目"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        self.fields["program"].choices = [
            (p.code, p.name)
            for p in Program.objects.filter(
                claim_window_start__lte=today, claim_window_end__gte=today
            ).order_by("code")
        ]
        for name in DECLARED_FIELD_NAMES:
            if name == "fuel_type":  # no default: the clerk must choose
                field = forms.ChoiceField(
                    choices=[("", _("请选择")), *Claim._meta.get_field("fuel_type").choices]
                )
            else:
                field = forms.CharField(max_length=200)
            field.required = False  # required-ness is the service's rule, reported with its codes
            field.label = str(field_label(name)) + ("" if name in OPTIONAL_FIELDS else " *")
            if name in DATE_FIELDS:
                field.help_text = _("例如 2026/10/13、2026-10-13 或 2026年10月13日")
            self.fields[name] = field
        for kind, label in DocumentKind.choices:
            self.fields[kind] = forms.FileField(label=f"{label} *", required=False)
