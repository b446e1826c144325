"""The settlement page (printable, Chinese) and its XLSX download, on the programs' admin."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _

from claims.errors import ServiceError
from claims.reports.settlement import XLSX_TYPE, settlement_export_xlsx, settlement_for


class SettlementAdminMixin:
    """Adds `settlement/<code>/` (the page) and `settlement/<code>/xlsx/` (the workbook) to a ModelAdmin."""

    def get_urls(self):
        return [
            path(
                "settlement/<slug:code>/",
                self.admin_site.admin_view(self.settlement_view),
                name="claims_program_settlement",
            ),
            path(
                "settlement/<slug:code>/xlsx/",
                self.admin_site.admin_view(self.settlement_xlsx_view),
                name="claims_program_settlement_xlsx",
            ),
            *super().get_urls(),
        ]

    def settlement_view(self, request, code: str):
        try:
            settlement = settlement_for(code, request.user, request=request)
        except ServiceError as exc:
            if exc.status == 403:
                raise PermissionDenied(exc.message) from None
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:claims_program_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("结算报表：%(name)s") % {"name": settlement.program.name},
            "s": settlement,
        }
        return TemplateResponse(request, "claims/finance/settlement.html", context)

    def settlement_xlsx_view(self, request, code: str):
        try:
            path_, filename = settlement_export_xlsx(code, request.user, request=request)
        except ServiceError as exc:
            if exc.status == 403:
                raise PermissionDenied(exc.message) from None
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:claims_program_changelist"))
        return FileResponse(open(path_, "rb"), as_attachment=True, filename=filename, content_type=XLSX_TYPE)  # noqa: SIM115
