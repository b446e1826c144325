"""Dealers' sales records in the admin: the upload (dealer accounts and reviewers) and the reviewers' report of
dealers without records and of records that disagree with claims."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from claims.accounts.admin import RoleAdmin
from claims.accounts.roles import AUDITOR, CLAIM_READERS, DEALER, REVIEWER, has_role
from claims.dealers.models import DealerSale
from claims.dealers.selectors import dealers_without_records, recent_imports, records_disagreeing
from claims.dealers.services import MAX_FILE_BYTES, SalesFileRefused, dealer_credit_code, dealer_sales_import
from claims.errors import ServiceError
from claims.vocabulary import field_label


class SalesUploadForm(forms.Form):
    file = forms.FileField(label=_("销售记录文件（CSV 或 XLSX）"))


@admin.register(DealerSale)
class DealerSaleAdmin(RoleAdmin):
    view_roles = (REVIEWER, AUDITOR, DEALER)
    list_display = ("credit_code", "invoice_code", "invoice_number", "invoice_date", "vin", "invoice_amount")
    list_filter = ("invoice_date",)
    search_fields = ("=credit_code", "=invoice_number", "=vin")
    change_list_template = "claims/admin/dealersale_change_list.html"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if not has_role(request.user, *CLAIM_READERS):  # a dealer account: its own records only
            qs = qs.filter(credit_code=dealer_credit_code(request.user) or "-")
        return qs

    def get_urls(self):
        return [
            path("upload/", self.admin_site.admin_view(self.upload_view), name="claims_dealersale_upload"),
            path("report/", self.admin_site.admin_view(self.report_view), name="claims_dealersale_report"),
        ] + super().get_urls()

    def upload_view(self, request):
        if not has_role(request.user, REVIEWER, DEALER):
            raise PermissionDenied
        form = SalesUploadForm(request.POST or None, request.FILES or None)
        refused = []
        if request.method == "POST" and form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                if upload.size > MAX_FILE_BYTES:
                    raise ServiceError("invalid_file", _("文件过大（最大 10 MB）"))
                result = dealer_sales_import(
                    request.user, upload.read(), file_name=upload.name, request=request
                )
            except SalesFileRefused as exc:
                refused = exc.refused
                form.add_error(None, exc.message)
            except ServiceError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("已导入 %(i)s 条，重复 %(d)s 条") % {"i": result.imported, "d": result.duplicates},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:claims_dealersale_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": _("上传销售记录"),
            "form": form,
            "refused": refused,
            "own_code": dealer_credit_code(request.user),
            "imports": recent_imports() if has_role(request.user, REVIEWER) else [],
            "opts": self.opts,
        }
        return TemplateResponse(request, "claims/admin/dealer_sales_upload.html", context)

    def report_view(self, request):
        if not has_role(request.user, REVIEWER, AUDITOR):
            raise PermissionDenied
        disagreeing = [
            {**row, "labels": [str(field_label(f)) for f in row["differences"]]}
            for row in records_disagreeing()
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("经销商销售记录核对"),
            "missing": dealers_without_records(),
            "disagreeing": disagreeing,
            "opts": self.opts,
        }
        return TemplateResponse(request, "claims/admin/dealer_sales_report.html", context)
