"""The audit trail in the admin: searchable and exportable by auditors, read-only for everyone."""

from __future__ import annotations

import csv
import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext_lazy

from claims.accounts.admin import RoleAdmin
from claims.accounts.roles import AUDITOR, has_role
from claims.audit.services import audit_export_record
from claims.models import AuditLog

AUDIT_ACTIONS = {
    "claim_approved": gettext_lazy("审核通过"),
    "claim_rejected": gettext_lazy("不予通过"),
    "claim_returned": gettext_lazy("退回补正"),
    "claim_corrected": gettext_lazy("申请人补正"),
    "claim_correction_expired": gettext_lazy("逾期未补正，已过期"),
    "claim_payout_fix_expired": gettext_lazy("发放失败后逾期未更正账户，已过期"),
    "claim_review_opened": gettext_lazy("打开审核页面"),
    "program_closed": gettext_lazy("补贴活动结束"),
    "settlement_export": gettext_lazy("导出结算报表"),
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
        audit_export_record(request.user, request=request, params=dict(request.GET.items()))
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
