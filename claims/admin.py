"""The staff admin (issue 5): the reviewers' queue and review page, counter intake, dashboard, audit trail.

What each role may do is decided by `claims.roles`, not by Django model permissions. Nothing here changes data
except through the services: a claim's status is never a form field, and the audit log is read-only.
"""

from __future__ import annotations

import csv
import json
from functools import cached_property

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from claims.errors import ServiceError
from claims.models import AuditLog, Claim, ClaimCheck, LedgerEntry, Program, Tier
from claims.models.claims import ClaimStatus, DocumentKind
from claims.money import money_display
from claims.roles import AUDITOR, FINANCE, REVIEWER, ROLES, has_role
from claims.selectors_review import (
    CHECK_LABELS,
    DECLARED_FIELDS,
    claim_search_q,
    dashboard_data,
    next_claim_to_review,
    staff_claims,
)
from claims.services import review
from claims.services.intake import OPTIONAL_FIELDS, TEXT_FIELDS


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (`COUNT(*)` over a LIMITed subquery), so a page never scans the whole table."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.CAP + 1].count()


class RoleAdmin(admin.ModelAdmin):
    """Read-only for the roles in `view_roles`; no add, change or delete through the admin."""

    view_roles: tuple[str, ...] = ROLES
    paginator = CappedCountPaginator
    show_full_result_count = False
    list_per_page = 100

    def has_module_permission(self, request) -> bool:
        return has_role(request.user, *ROLES)

    def has_view_permission(self, request, obj=None) -> bool:
        return has_role(request.user, *self.view_roles)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
    ordering = ("program", "seq")
    actions = ["approve_selected"]
    change_form_template = "claims/admin/claim_review.html"

    def get_queryset(self, request):
        return staff_claims()

    def get_search_results(self, request, queryset, search_term):
        if not search_term.strip():
            return queryset, False
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

    # Bulk action --------------------------------------------------------------------------------------------
    @admin.action(description=gettext_lazy("审核通过所选申请"), permissions=["review"])
    def approve_selected(self, request, queryset):
        numbers = list(queryset.values_list("claim_number", flat=True)[:500])
        result = review.claims_approve_bulk(numbers, actor=request.user, request=request)
        if result.done:
            self.message_user(
                request, _("已审核通过 %(n)s 件申请") % {"n": len(result.done)}, messages.SUCCESS
            )
        for number, message in result.failed:
            self.message_user(request, f"{number}：{message}", messages.ERROR)

    # Extra pages --------------------------------------------------------------------------------------------
    def get_urls(self):
        extra = [
            path(
                "dashboard/", self.admin_site.admin_view(self.dashboard_view), name="claims_claim_dashboard"
            ),
            path("counter/", self.admin_site.admin_view(self.counter_view), name="claims_claim_counter"),
        ]
        return extra + super().get_urls()

    def dashboard_view(self, request):
        if not has_role(request.user, *ROLES):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("工作台"),
            "rows": dashboard_data(),
            "statuses": ClaimStatus,
            "opts": self.opts,
        }
        return TemplateResponse(request, "claims/admin/dashboard.html", context)

    def counter_view(self, request):
        if not has_role(request.user, REVIEWER):
            raise PermissionDenied
        form = CounterIntakeForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = review.counter_intake(
                    form.cleaned_data["program"],
                    request.POST,
                    request.FILES,
                    clerk=request.user,
                    request=request,
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
            "opts": self.opts,
        }
        return TemplateResponse(request, "claims/admin/counter_intake.html", context)

    # The review page ----------------------------------------------------------------------------------------
    def change_view(self, request, object_id, form_url="", extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        claim = get_object_or_404(Claim.objects.select_related("program"), pk=object_id)
        if request.method == "POST":
            return self._decide(request, claim)
        data = review.claim_staff_view(
            claim.claim_number,
            user=request.user,
            request=request,
            document_url=lambda d: reverse("api:staff-document", args=[d.pk]),
            where="admin",
        )
        comparison = data["ocr_comparison"]
        labels = {f.name: f.verbose_name for f in Claim._meta.get_fields() if hasattr(f, "verbose_name")}
        mismatched = {row["declared_field"] for row in comparison if row["match"] is False}
        declared_rows = [
            {
                "name": name,
                "label": labels.get(name, name),
                "value": data[name],
                "mismatch": name in mismatched,
                "readings": [r for r in comparison if r["declared_field"] == name],
            }
            for name in DECLARED_FIELDS
        ]
        documents = []
        for doc in data["documents"]:
            readings = [r for r in comparison if r["kind"] == doc["kind"]]
            ocr = data["ocr"].get(doc["kind"])
            documents.append(
                {
                    **doc,
                    "readings": readings,
                    "ocr_pending": ocr is None,
                    "ocr_problem": ocr.get("detail") if isinstance(ocr, dict) and "status" in ocr else "",
                    "is_pdf": doc["content_type"] == "application/pdf",
                }
            )
        checks = [{**c, "label": CHECK_LABELS.get(c["code"], c["code"])} for c in data["checks"]]
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
            "can_decide": has_role(request.user, REVIEWER) and claim.status == ClaimStatus.UNDER_REVIEW,
            "return_reasons": review.reason_choices("return"),
            "reject_reasons": review.reason_choices("reject"),
            "returnable_fields": [(n, labels.get(n, n)) for n in review.RETURNABLE_FIELDS],
            "returnable_documents": list(DocumentKind.choices),
            "next_claim": next_claim,
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
                    claim.claim_number, actor=request.user, note=post.get("note", ""), request=request
                )
                done = _("已审核通过")
            elif action == "reject":
                review.claim_reject(
                    claim.claim_number,
                    actor=request.user,
                    reason_code=post.get("reason_code", ""),
                    reason=post.get("reason", ""),
                    note=post.get("note", ""),
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
                    request=request,
                )
                done = _("已退回补正")
            else:
                raise ServiceError("invalid_action", _("未知的操作"))
        except ServiceError as exc:
            self.message_user(request, f"{exc.message}（{exc.code}）", messages.ERROR)
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
        labels = {f.name: f.verbose_name for f in Claim._meta.get_fields() if hasattr(f, "verbose_name")}
        for name in (*TEXT_FIELDS, "dealer_name", "vehicle_model"):
            if name == "fuel_type":
                field = forms.ChoiceField(choices=Claim._meta.get_field("fuel_type").choices)
            else:
                field = forms.CharField(max_length=200)
            field.required = False  # required-ness is the service's rule, reported with its codes
            field.label = labels.get(name, name) + ("" if name in OPTIONAL_FIELDS else " *")
            self.fields[name] = field
        for kind, label in DocumentKind.choices:
            self.fields[kind] = forms.FileField(label=f"{label} *", required=False)


# --- Programs and the budget ledger (read-only) --------------------------------------------------------------------


@admin.register(Program)
class ProgramAdmin(RoleAdmin):
    list_display = (
        "code",
        "name",
        "budget_total",
        "reserved",
        "paid",
        "available_display",
        "claim_window_end",
    )

    @admin.display(description=gettext_lazy("可用余额"))
    def available_display(self, obj: Program):
        return money_display(obj.available)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(RoleAdmin):
    view_roles = (FINANCE, AUDITOR)
    list_display = (
        "id",
        "created_at",
        "program",
        "claim",
        "kind",
        "amount",
        "reserved_after",
        "paid_after",
        "note",
    )
    list_filter = ("kind", "program")
    list_select_related = ("program", "claim")
    search_fields = ("=claim__claim_number",)
    ordering = ("-id",)


# --- Audit trail -------------------------------------------------------------------------------------------------

AUDIT_ACTIONS = {
    "claim_approved": gettext_lazy("审核通过"),
    "claim_rejected": gettext_lazy("不予通过"),
    "claim_returned": gettext_lazy("退回补正"),
    "claim_corrected": gettext_lazy("申请人补正"),
    "claim_correction_expired": gettext_lazy("逾期未补正撤回"),
    "claim_counter_intake": gettext_lazy("窗口受理"),
    "pii_view": gettext_lazy("查看完整个人信息"),
    "document_view": gettext_lazy("查看申请材料"),
    "api_token_issued": gettext_lazy("获取接口令牌"),
    "audit_export": gettext_lazy("导出审计日志"),
}


class AuditActionFilter(admin.SimpleListFilter):
    title = gettext_lazy("操作")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return list(AUDIT_ACTIONS.items())

    def queryset(self, request, queryset):
        return queryset.filter(action=self.value()) if self.value() else queryset


def _csv_safe(value) -> str:
    """Spreadsheet formula injection guard: a cell never starts with = + - @."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


class _Echo:
    def write(self, value):
        return value


@admin.register(AuditLog)
class AuditLogAdmin(RoleAdmin):
    """Append-only: searchable and exportable by auditors; nobody can add, edit or delete a row here."""

    view_roles = (AUDITOR,)
    list_display = (
        "created_at",
        "actor_label",
        "action",
        "claim",
        "object_type",
        "object_id",
        "ip_address",
        "detail",
    )
    list_filter = (AuditActionFilter, ("created_at", admin.DateFieldListFilter))
    list_select_related = ("claim",)
    search_fields = ("=actor_label", "=action", "=claim__claim_number", "=ip_address", "=object_id")
    ordering = ("-id",)
    change_list_template = "claims/admin/auditlog_change_list.html"
    actions = None

    def has_module_permission(self, request) -> bool:
        return has_role(request.user, AUDITOR)

    def get_urls(self):
        return [
            path("export/", self.admin_site.admin_view(self.export_view), name="claims_auditlog_export"),
        ] + super().get_urls()

    def export_view(self, request):
        """CSV of the rows the current search and filters select (all of them, streamed)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        queryset = changelist.get_queryset(request).order_by("id")
        review.audit_export_record(request.user, request=request, params=dict(request.GET.items()))
        writer = csv.writer(_Echo())
        header = [
            "id",
            "created_at",
            "actor",
            "action",
            "claim_number",
            "object_type",
            "object_id",
            "ip_address",
            "detail",
        ]

        def rows():
            yield "\ufeff"  # so spreadsheet programs read UTF-8
            yield writer.writerow(header)
            for row in queryset.select_related("claim").iterator(chunk_size=2000):
                yield writer.writerow(
                    [
                        _csv_safe(v)
                        for v in (
                            row.pk,
                            timezone.localtime(row.created_at).isoformat(),
                            row.actor_label,
                            row.action,
                            row.claim.claim_number if row.claim else "",
                            row.object_type,
                            row.object_id,
                            row.ip_address or "",
                            json.dumps(row.detail, ensure_ascii=False, sort_keys=True),
                        )
                    ]
                )

        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response


admin.site.site_header = gettext_lazy("汽车消费补贴核补系统")
admin.site.site_title = gettext_lazy("补贴核补")
admin.site.index_title = gettext_lazy("工作台")

from claims import admin_finance  # noqa: E402,F401
