"""The audit trail in the admin: searchable and exportable by auditors, read-only for everyone."""

from __future__ import annotations

import csv
import json

from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_ipv46_address
from django.db.models import Q
from django.http import StreamingHttpResponse
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from claims.accounts.admin import RoleAdmin
from claims.accounts.roles import AUDITOR, has_role
from claims.audit.events import AUDIT_EVENTS, detail_text, event_label
from claims.audit.services import audit_export_record
from claims.models import AuditLog, Claim


class AuditActionFilter(admin.SimpleListFilter):
    title = gettext_lazy("操作")
    parameter_name = "action"

    def lookups(self, request, model_admin):
        return list(AUDIT_EVENTS.items())

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
        "action_display",
        "claim_number",
        "object_display",
        "ip_address",
        "detail_display",
    )
    list_filter = (AuditActionFilter, ("created_at", admin.DateFieldListFilter))
    list_select_related = ("claim",)
    # Replaced by get_search_results: exact matches on indexed columns, the claim resolved to its id first.
    search_fields = ("=actor_label", "=action", "=object_id")
    ordering = ("-id",)
    change_list_template = "claims/admin/auditlog_change_list.html"
    actions = None

    def has_module_permission(self, request) -> bool:
        return has_role(request.user, AUDITOR)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        claim_ids = list(Claim.objects.filter(claim_number=term.upper()).values_list("pk", flat=True))
        q = Q(actor_label=term) | Q(action=term) | Q(object_id=term) | Q(claim_id__in=claim_ids)
        try:
            q |= Q(ip_address=validate_ipv46_address(term) or term)
        except ValidationError:
            pass
        return queryset.filter(q), False

    @admin.display(description=gettext_lazy("操作"), ordering="action")
    def action_display(self, obj):
        return event_label(obj.action)

    @admin.display(description=gettext_lazy("申请编号"))
    def claim_number(self, obj):
        return obj.claim.claim_number if obj.claim_id else "—"

    @admin.display(description=gettext_lazy("对象"))
    def object_display(self, obj):
        return f"{obj.object_type} #{obj.object_id}" if obj.object_type else "—"

    @admin.display(description=gettext_lazy("详情"))
    def detail_display(self, obj):
        return detail_text(obj.detail)

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
        header += [gettext("操作（说明）"), gettext("详情（说明）")]

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
                            event_label(row.action),
                            detail_text(row.detail),
                        )
                    ]
                )

        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="audit-{stamp}.csv"'
        return response
