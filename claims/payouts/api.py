"""Finance API (docs/api.md): payout batches, bank files, results import, reports; and the applicant's new bank
details after a failed payout. Views parse input, call one service, format the answer."""

from __future__ import annotations

from django.http import FileResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.accounts.roles import AUDITOR, FINANCE, HasRole
from claims.api.schema import declared_fields_body, single_file_body
from claims.api.throttling import ClaimNumberThrottle, ClientThrottle
from claims.errors import ServiceError
from claims.intake.selectors import claim_for_applicant_view
from claims.payouts.bank_files import batch_file, results_import
from claims.payouts.selectors import batch_summary, batches_for_list
from claims.payouts.services import (
    batch_approve,
    batch_cancel,
    batch_create,
    batch_get,
    claim_bank_account_change,
    payout_retry,
)
from claims.reports.services import report_export
from claims.vocabulary import BANK_FIELDS

MAX_UPLOAD = 10 * 1024 * 1024


class IgnoreFormatParameter(DefaultContentNegotiation):
    """`?format=csv|xlsx` names the file format here, not a DRF renderer: answer with the first renderer."""

    def select_renderer(self, request, renderers, format_suffix=None):
        renderer = renderers[0]
        return renderer, renderer.media_type


class FinanceView(APIView):
    permission_classes = [HasRole.of(FINANCE)]


class BatchCreateSerializer(serializers.Serializer):
    program = serializers.SlugField(required=False, allow_blank=True)


class PayoutBatchListView(APIView):
    parser_classes = [JSONParser, FormParser]

    def get_permissions(self):
        roles = (FINANCE,) if self.request.method == "POST" else (FINANCE, AUDITOR)
        return [HasRole.of(*roles)()]

    @extend_schema(summary="Payout batches, newest first")
    def get(self, request):
        batches = batches_for_list()[:200]
        return Response([batch_summary(b) for b in batches])

    @extend_schema(
        summary="Create a batch of every approved claim not yet in one", request=BatchCreateSerializer
    )
    def post(self, request):
        data = BatchCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = batch_create(
            request.user, program_code=data.validated_data.get("program") or None, request=request
        )
        return Response(batch_summary(batch_get(batch.pk)), status=201)


class PayoutBatchDetailView(APIView):
    permission_classes = [HasRole.of(FINANCE, AUDITOR)]

    @extend_schema(summary="One payout batch")
    def get(self, request, batch_id: int):
        return Response(batch_summary(batch_get(batch_id)))


class PayoutBatchApproveView(FinanceView):
    @extend_schema(summary="Second finance user's approval (the creator gets 403)", request=None)
    def post(self, request, batch_id: int):
        return Response(batch_summary(batch_approve(batch_id, request.user, request=request)))


class PayoutBatchFileView(FinanceView):
    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(
        summary="The bank file of an approved batch",
        parameters=[
            OpenApiParameter("format", str, enum=["csv", "xlsx"], required=True),
            OpenApiParameter("layout", str, description="a bank file layout; `default` when omitted"),
        ],
    )
    def get(self, request, batch_id: int):
        fmt = (request.query_params.get("format") or "csv").lower()
        layout = request.query_params.get("layout") or None
        bank_file = batch_file(batch_id, fmt, request.user, layout=layout, request=request)
        response = FileResponse(
            open(bank_file.path, "rb"),  # noqa: SIM115 - FileResponse closes it
            as_attachment=True,
            filename=bank_file.filename,
            content_type=bank_file.content_type,
        )
        response["X-Content-SHA256"] = bank_file.sha256
        response["Cache-Control"] = "no-store"
        return response


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class PayoutBatchCancelView(FinanceView):
    @extend_schema(
        summary="Void a batch not yet approved (its claims wait for the next batch)", request=CancelSerializer
    )
    def post(self, request, batch_id: int):
        data = CancelSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        batch = batch_cancel(batch_id, request.user, reason=data.validated_data["reason"], request=request)
        return Response(batch_summary(batch))


class PayoutRetryView(FinanceView):
    @extend_schema(summary="Pay a failed payout again with the same bank details", request=None)
    def post(self, request, claim_number: str):
        claim = payout_retry(claim_number, request.user, request=request)
        return Response({"claim_number": claim.claim_number, "status": claim.status})


class PayoutResultsView(FinanceView):
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Import the bank's results file (CSV)",
        request={
            "multipart/form-data": single_file_body("PayoutResultsMultipart", "the bank's results, CSV")
        },
    )
    def post(self, request, batch_id: int):
        upload = request.FILES.get("file")
        if upload is None:
            raise ServiceError("required", _("请上传银行回盘文件（file）"))
        if upload.size > MAX_UPLOAD:
            raise ServiceError("file_too_large", _("文件过大"))
        summary = results_import(
            batch_id, upload.read(), request.user, file_name=upload.name, request=request
        )
        return Response(summary.as_dict())


class ReportView(APIView):
    permission_classes = [HasRole.of(FINANCE, AUDITOR)]
    content_negotiation_class = IgnoreFormatParameter

    @extend_schema(
        summary="A program report (summary, daily, vehicles; 'all' as one XLSX workbook)",
        parameters=[OpenApiParameter("format", str, enum=["csv", "xlsx"])],
    )
    def get(self, request, code: str, kind: str):
        fmt = (request.query_params.get("format") or "xlsx").lower()
        report = report_export(code, kind, fmt, request.user, request=request)
        response = FileResponse(
            open(report.path, "rb"),  # noqa: SIM115
            as_attachment=True,
            filename=report.filename,
            content_type=report.content_type,
        )
        response["Cache-Control"] = "no-store"
        return response


class BankAccountSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=32)


BANK_ACCOUNT = declared_fields_body(
    "BankAccountRequest",
    BANK_FIELDS,
    files=False,
    uploads=False,
    all_required=True,
    extra={"id_number": serializers.CharField(max_length=32, help_text="the applicant's ID number")},
)


class ClaimBankAccountView(APIView):
    """Public: the applicant's new bank details, only while the claim is `payout_failed`."""

    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [JSONParser, FormParser, MultiPartParser]
    throttle_classes = [ClientThrottle, ClaimNumberThrottle]
    throttle_scope = "lookup"

    @extend_schema(summary="New bank details after a failed payout", request=BANK_ACCOUNT)
    def post(self, request, claim_number: str):
        data = BankAccountSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = claim_bank_account_change(
            claim_number, data.validated_data["id_number"], request.data, request=request
        )
        return Response(claim_for_applicant_view(claim))
