"""Finance pages in the admin: payout batches (approve, download), payouts, result imports, reports.

Registered from the end of `claims/admin.py`. Read-only lists; every action goes through a service.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _

from claims.accounts.admin import RoleAdmin
from claims.accounts.roles import AUDITOR, FINANCE, has_role
from claims.errors import ServiceError
from claims.models import Payout, PayoutBatch, PayoutResultImport, Program
from claims.money import money_display
from claims.payouts.bank_files import batch_file
from claims.payouts.services import batch_approve, batch_cancel, payout_retry
from claims.reports.services import REPORT_KINDS, budget_chart, report_export

FINANCE_VIEW = (FINANCE, AUDITOR)


class FinanceRoleAdmin(RoleAdmin):
    view_roles = FINANCE_VIEW

    def has_module_permission(self, request) -> bool:
        return has_role(request.user, *FINANCE_VIEW)


@admin.register(PayoutBatch)
class PayoutBatchAdmin(FinanceRoleAdmin):
    list_display = ("id", "program", "status", "count", "total_display", "created_by", "approved_by", "files")
    list_filter = ("status", "program")
    readonly_fields = [f.name for f in PayoutBatch._meta.fields]
    actions = ["approve_batches", "cancel_batches"]

    @admin.display(description=_("总金额"))
    def total_display(self, obj):
        return money_display(obj.total)

    @admin.display(description=_("银行文件"))
    def files(self, obj):
        if obj.status == PayoutBatch.Status.CREATED:
            return _("待复核")
        return format_html(
            '<a href="{}">CSV</a> · <a href="{}">XLSX</a>',
            reverse("admin:claims_payoutbatch_file", args=[obj.pk, "csv"]),
            reverse("admin:claims_payoutbatch_file", args=[obj.pk, "xlsx"]),
        )

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_role(request.user, FINANCE):
            actions.pop("approve_batches", None)
            actions.pop("cancel_batches", None)
        return actions

    @admin.action(description=_("作废所选批次（仅限未复核的批次，申请进入下一批次）"))
    def cancel_batches(self, request, queryset):
        self._each_batch(request, queryset, batch_cancel, _("批次 #%(id)s 已作废"))

    def _each_batch(self, request, queryset, service, done: str) -> None:
        for batch in queryset.order_by("id"):
            try:
                service(batch.pk, request.user, request=request)
                self.message_user(request, done % {"id": batch.pk})
            except ServiceError as exc:
                self.message_user(request, f"#{batch.pk}: {exc.message}", level=messages.ERROR)

    @admin.action(description=_("复核所选批次（须由创建人以外的财务人员操作）"))
    def approve_batches(self, request, queryset):
        self._each_batch(request, queryset, batch_approve, _("批次 #%(id)s 已复核"))

    def get_urls(self):
        return [
            path(
                "<int:batch_id>/file/<str:fmt>/",
                self.admin_site.admin_view(self.file_view),
                name="claims_payoutbatch_file",
            ),
            path(
                "reports/", self.admin_site.admin_view(self.reports_view), name="claims_payoutbatch_reports"
            ),
            path(
                "reports/<slug:code>/<slug:kind>/<str:fmt>/",
                self.admin_site.admin_view(self.report_file_view),
                name="claims_payoutbatch_report_file",
            ),
            *super().get_urls(),
        ]

    def file_view(self, request, batch_id: int, fmt: str):
        try:
            f = batch_file(batch_id, fmt, request.user, request=request)
        except ServiceError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:claims_payoutbatch_changelist"))
        return FileResponse(
            open(f.path, "rb"), as_attachment=True, filename=f.filename, content_type=f.content_type
        )  # noqa: SIM115

    def reports_view(self, request):
        if not has_role(request.user, *FINANCE_VIEW):
            raise PermissionDenied
        programs = [
            {"program": p, "chart": budget_chart(p)}
            for p in Program.objects.prefetch_related("tiers").order_by("code")
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("报表与预算"),
            "programs": programs,
            "kinds": REPORT_KINDS,
        }
        return TemplateResponse(request, "claims/finance/reports.html", context)

    def report_file_view(self, request, code: str, kind: str, fmt: str):
        try:
            f = report_export(code, kind, fmt, request.user, request=request)
        except ServiceError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:claims_payoutbatch_reports"))
        return FileResponse(
            open(f.path, "rb"), as_attachment=True, filename=f.filename, content_type=f.content_type
        )  # noqa: SIM115


@admin.register(Payout)
class PayoutAdmin(FinanceRoleAdmin):
    list_display = (
        "id",
        "claim",
        "attempt",
        "status",
        "amount",
        "payee_name",
        "bank_name",
        "bank_account_masked",
        "batch",
    )
    list_filter = ("status",)
    search_fields = ("claim__claim_number", "bank_reference")
    list_select_related = ("claim", "batch")
    # The full account number is never shown in the admin; the bank file is the only place it appears.
    fields = (
        "claim",
        "program",
        "attempt",
        "status",
        "amount",
        "payee_name",
        "bank_name",
        "bank_account_masked",
        "batch",
        "bank_reference",
        "failure_reason",
        "created_at",
        "submitted_at",
        "completed_at",
    )
    readonly_fields = fields
    actions = ["retry_payouts"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_role(request.user, FINANCE):
            actions.pop("retry_payouts", None)
        return actions

    @admin.action(description=_("按原银行卡重新发放所选失败的指令"))
    def retry_payouts(self, request, queryset):
        for payout in queryset.select_related("claim").order_by("id"):
            try:
                payout_retry(payout.claim.claim_number, request.user, request=request)
                self.message_user(request, _("申请 %(n)s 已安排重新发放") % {"n": payout.claim.claim_number})
            except ServiceError as exc:
                self.message_user(
                    request, f"{payout.claim.claim_number}: {exc.message}", level=messages.ERROR
                )


@admin.register(PayoutResultImport)
class PayoutResultImportAdmin(FinanceRoleAdmin):
    list_display = (
        "id",
        "batch",
        "file_name",
        "uploaded_by",
        "lines",
        "paid",
        "failed",
        "unchanged",
        "created_at",
    )
    readonly_fields = [f.name for f in PayoutResultImport._meta.fields]
