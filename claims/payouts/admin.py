"""Finance pages in the admin: payout batches (approve, cancel, download), payouts (retry), result imports.

Registered from the end of `claims/admin.py`. Read-only lists; every action goes through a service.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import FileResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _

from claims.accounts.admin import RoleAdmin
from claims.accounts.roles import AUDITOR, FINANCE, has_role
from claims.errors import ServiceError
from claims.models import Claim, Payout, PayoutBatch, PayoutResultImport, Program
from claims.money import money_display
from claims.payouts.bank_files import (
    MAX_RESULTS_BYTES,
    batch_expired_formats,
    batch_file,
    batches_expired_formats,
    results_import,
    results_preview,
    results_stage,
    results_staged,
)
from claims.payouts.layouts import bank_layouts
from claims.payouts.selectors import batch_detail, payouts_waiting
from claims.payouts.services import batch_approve, batch_cancel, batch_create, payout_retry

FINANCE_VIEW = (FINANCE, AUDITOR)


class FinanceRoleAdmin(RoleAdmin):
    view_roles = FINANCE_VIEW

    def has_module_permission(self, request) -> bool:
        return has_role(request.user, *FINANCE_VIEW)


class BatchProgramFilter(admin.RelatedFieldListFilter):
    """By program; a batch of every program is "全部项目" (not the admin's "-")."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.empty_value_display = _("全部项目")

    def field_choices(self, field, request, model_admin):
        return [(p.pk, p.code) for p in Program.objects.order_by("code")]


class BatchCreateForm(forms.Form):
    program = forms.ModelChoiceField(
        label=_("补贴项目"),
        queryset=Program.objects.order_by("code"),
        required=False,
        empty_label=_("全部项目"),
    )


class ResultsUploadForm(forms.Form):
    file = forms.FileField(label=_("银行回盘文件（CSV）"))


@admin.register(PayoutBatch)
class PayoutBatchAdmin(FinanceRoleAdmin):
    list_display = (
        "batch_number",
        "program_display",
        "status",
        "count",
        "total_display",
        "created_by_display",
        "approved_by_display",
        "files",
    )
    list_display_links = ("batch_number",)
    list_filter = ("status", ("program", BatchProgramFilter))
    list_select_related = ("program", "created_by", "approved_by")
    ordering = ("-id",)
    actions = ["approve_batches", "cancel_batches"]
    change_list_template = "claims/finance/batch_change_list.html"

    @admin.display(description=_("批次号"), ordering="id")
    def batch_number(self, obj):
        return f"#{obj.pk}"

    @admin.display(description=_("补贴项目"), ordering="program__code")
    def program_display(self, obj):
        return obj.program.code if obj.program_id else _("全部项目")

    @admin.display(description=_("创建人"))
    def created_by_display(self, obj):
        return obj.created_by.get_username()

    @admin.display(description=_("复核人"))
    def approved_by_display(self, obj):
        return obj.approved_by.get_username() if obj.approved_by_id else "—"

    @admin.display(description=_("总金额"), ordering="total")
    def total_display(self, obj):
        return money_display(obj.total)

    @admin.display(description=_("银行文件"))
    def files(self, obj):
        if obj.status in (PayoutBatch.Status.CREATED, PayoutBatch.Status.CANCELLED):
            return "—"
        expired = getattr(obj, "expired_formats", None)
        if expired is None:
            expired = batch_expired_formats(obj.pk)
        links = [
            format_html("{} {}", fmt.upper(), _("已按保存期限删除"))
            if fmt in expired
            else format_html(
                '<a href="{}">{}</a>',
                reverse("admin:claims_payoutbatch_file", args=[obj.pk, fmt]),
                fmt.upper(),
            )
            for fmt in ("csv", "xlsx")
        ]
        return format_html_join(" · ", "{}", ((link,) for link in links))

    def get_changelist_instance(self, request):
        """The page's batches learn which of their bank files expired in two queries, not two per row."""
        changelist = super().get_changelist_instance(request)
        batches = list(changelist.result_list)  # the page's rows, cached on the queryset the template reads
        expired = batches_expired_formats(b.pk for b in batches)
        for batch in batches:
            batch.expired_formats = expired.get(batch.pk, set())
        return changelist

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
            self._one(request, batch.pk, service, done)

    def _one(self, request, batch_id: int, service, done: str) -> bool:
        try:
            service(batch_id, request.user, request=request)
        except ServiceError as exc:
            self.message_user(request, f"#{batch_id}: {exc.message}", level=messages.ERROR)
            return False
        self.message_user(request, done % {"id": batch_id})
        return True

    @admin.action(description=_("复核所选批次（须由创建人以外的财务人员操作）"))
    def approve_batches(self, request, queryset):
        self._each_batch(request, queryset, batch_approve, _("批次 #%(id)s 已复核"))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("create/", view(self.create_view), name="claims_payoutbatch_create"),
            path("<int:batch_id>/file/<str:fmt>/", view(self.file_view), name="claims_payoutbatch_file"),
            path("<int:batch_id>/approve/", view(self.approve_view), name="claims_payoutbatch_approve"),
            path("<int:batch_id>/cancel/", view(self.cancel_view), name="claims_payoutbatch_cancel"),
            path("<int:batch_id>/results/", view(self.results_view), name="claims_payoutbatch_results"),
            *super().get_urls(),
        ]

    def _require_finance(self, request) -> None:
        if not has_role(request.user, FINANCE):
            raise PermissionDenied

    def _detail_url(self, batch_id: int) -> str:
        return reverse("admin:claims_payoutbatch_change", args=[batch_id])

    def create_view(self, request):
        """A batch of every approved claim not yet in a batch (optionally of one program)."""
        self._require_finance(request)
        form = BatchCreateForm(request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid():
            program = form.cleaned_data["program"]
            try:
                batch = batch_create(
                    request.user, program_code=program.code if program else None, request=request
                )
            except ServiceError as exc:
                self.message_user(request, exc.message, level=messages.ERROR)
            else:
                self.message_user(
                    request,
                    _("已创建批次 #%(id)s：%(n)d 笔，共 %(t)s，须由另一名财务人员复核")
                    % {"id": batch.pk, "n": batch.count, "t": money_display(batch.total)},
                )
                return HttpResponseRedirect(self._detail_url(batch.pk))
        context = {
            **self.admin_site.each_context(request),
            "title": _("新建发放批次"),
            "form": form,
            "waiting": payouts_waiting(),
            "opts": self.opts,
        }
        return TemplateResponse(request, "claims/finance/batch_create.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The batch as finance sees it: its claims, totals by status, and what can be done next."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        batch = (
            PayoutBatch.objects.select_related("program", "created_by", "approved_by")
            .filter(pk=object_id)
            .first()
        )
        if batch is None:
            self.message_user(request, _("发放批次不存在"), level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:claims_payoutbatch_changelist"))
        context = {
            **self.admin_site.each_context(request),
            **batch_detail(batch),
            "title": _("发放批次 #%(id)s") % {"id": batch.pk},
            "batch": batch,
            "opts": self.opts,
            "is_finance": has_role(request.user, FINANCE),
            "layouts": bank_layouts().values(),
            "upload_form": ResultsUploadForm(),
            "can_approve": batch.status == PayoutBatch.Status.CREATED
            and batch.created_by_id != request.user.pk,
        }
        return TemplateResponse(request, "claims/finance/batch_detail.html", context)

    def approve_view(self, request, batch_id: int):
        self._require_finance(request)
        if request.method == "POST":
            self._one(request, batch_id, batch_approve, _("批次 #%(id)s 已复核，可以下载银行文件"))
        return HttpResponseRedirect(self._detail_url(batch_id))

    def cancel_view(self, request, batch_id: int):
        self._require_finance(request)
        if request.method == "POST":
            self._one(request, batch_id, batch_cancel, _("批次 #%(id)s 已作废，其中的申请将进入下一批次"))
        return HttpResponseRedirect(self._detail_url(batch_id))

    def results_view(self, request, batch_id: int):
        """Upload the bank's results: a preview first (nothing changes), then confirm (all lines or none)."""
        self._require_finance(request)
        if request.method != "POST":
            return HttpResponseRedirect(self._detail_url(batch_id))
        try:
            if "confirm" in request.POST:
                data = results_staged(batch_id, request.POST.get("sha256", ""))
                summary = results_import(
                    batch_id, data, request.user, file_name=request.POST.get("file_name", ""), request=request
                )
                self.message_user(
                    request,
                    _("回盘已导入：成功 %(p)d 笔，失败 %(f)d 笔，此前已记录 %(u)d 笔")
                    % {"p": summary.paid, "f": summary.failed, "u": summary.unchanged},
                )
                return HttpResponseRedirect(self._detail_url(batch_id))
            form = ResultsUploadForm(request.POST, request.FILES)
            if not form.is_valid():
                self.message_user(request, _("请选择银行回盘文件"), level=messages.ERROR)
                return HttpResponseRedirect(self._detail_url(batch_id))
            upload = form.cleaned_data["file"]
            if upload.size > MAX_RESULTS_BYTES:
                raise ServiceError("file_too_large", _("文件过大"))
            data = upload.read()
            preview = results_preview(batch_id, data, request.user)
            sha = results_stage(batch_id, data, request.user) if preview.ok else ""
        except ServiceError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(self._detail_url(batch_id))
        context = {
            **self.admin_site.each_context(request),
            "title": _("核对银行回盘：批次 #%(id)s") % {"id": batch_id},
            "batch": PayoutBatch.objects.get(pk=batch_id),
            "preview": preview,
            "sha256": sha,
            "file_name": upload.name[:200],
            "opts": self.opts,
        }
        return TemplateResponse(request, "claims/finance/results_preview.html", context)

    def file_view(self, request, batch_id: int, fmt: str):
        try:
            f = batch_file(
                batch_id, fmt, request.user, layout=request.GET.get("layout") or None, request=request
            )
        except ServiceError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return HttpResponseRedirect(reverse("admin:claims_payoutbatch_changelist"))
        return FileResponse(
            open(f.path, "rb"), as_attachment=True, filename=f.filename, content_type=f.content_type
        )  # noqa: SIM115


@admin.register(Payout)
class PayoutAdmin(FinanceRoleAdmin):
    list_display = (
        "payout_number",
        "claim_number",
        "attempt",
        "status",
        "amount",
        "payee_name",
        "bank_name",
        "bank_account_masked",
        "batch_number",
    )
    list_filter = ("status",)
    search_fields = ("=bank_reference",)  # replaced by get_search_results: exact and indexed
    search_help_text = _("按申请编号或银行流水号精确查找")
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
    actions = ["batch_selected", "retry_payouts"]

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        # The claim's id first (its unique index), so both halves of the OR use an index of their own.
        claim_ids = list(Claim.objects.filter(claim_number=term.upper()).values_list("pk", flat=True))
        return queryset.filter(Q(claim_id__in=claim_ids) | Q(bank_reference=term)), False

    @admin.display(description=_("指令号"), ordering="id")
    def payout_number(self, obj):
        return obj.pk

    @admin.display(description=_("申请编号"), ordering="claim__claim_number")
    def claim_number(self, obj):
        return obj.claim.claim_number

    @admin.display(description=_("发放批次"), ordering="batch_id")
    def batch_number(self, obj):
        return f"#{obj.batch_id}" if obj.batch_id else "—"

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not has_role(request.user, FINANCE):
            actions.pop("retry_payouts", None)
            actions.pop("batch_selected", None)
        return actions

    @admin.action(description=_("将所选待编批的指令编入新批次"))
    def batch_selected(self, request, queryset):
        try:
            batch = batch_create(
                request.user, payout_ids=list(queryset.values_list("id", flat=True)), request=request
            )
        except ServiceError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)
            return None
        self.message_user(
            request,
            _("已创建批次 #%(id)s：%(n)d 笔，共 %(t)s，须由另一名财务人员复核")
            % {"id": batch.pk, "n": batch.count, "t": money_display(batch.total)},
        )
        return HttpResponseRedirect(reverse("admin:claims_payoutbatch_change", args=[batch.pk]))

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
    list_select_related = ("batch", "uploaded_by")
    readonly_fields = [f.name for f in PayoutResultImport._meta.fields]
