"""The reports page in the admin (per program: the budget chart and the report files), on the programs' admin."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from claims.accounts.roles import AUDITOR, FINANCE, has_role
from claims.errors import ServiceError
from claims.models import Program
from claims.reports.services import REPORT_KINDS, budget_chart, report_export

REPORT_VIEWERS = (FINANCE, AUDITOR)


class ReportsAdminMixin:
    """Adds `reports/` (the page) and `reports/<code>/<kind>/<fmt>/` (a file) to a ModelAdmin's URLs."""

    def get_urls(self):
        return [
            path("reports/", self.admin_site.admin_view(self.reports_view), name="claims_program_reports"),
            path(
                "reports/<slug:code>/<slug:kind>/<str:fmt>/",
                self.admin_site.admin_view(self.report_file_view),
                name="claims_program_report_file",
            ),
            *super().get_urls(),
        ]

    def reports_view(self, request):
        if not has_role(request.user, *REPORT_VIEWERS):
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
            return HttpResponseRedirect(reverse("admin:claims_program_reports"))
        return FileResponse(
            open(f.path, "rb"), as_attachment=True, filename=f.filename, content_type=f.content_type
        )  # noqa: SIM115
