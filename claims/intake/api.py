"""Public API of claims: submission, lookup and withdrawal."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.api.schema import declared_fields_body, single_file_body
from claims.api.throttling import ClaimNumberThrottle, ClientThrottle
from claims.errors import ServiceError
from claims.intake.applicant import claim_for_applicant, claim_withdraw
from claims.intake.selectors import claim_for_applicant_view
from claims.intake.services import claim_check, claim_submit
from claims.intake.uploads import upload_public, upload_stage
from claims.vocabulary import DECLARED_FIELD_NAMES, DOCUMENT_KINDS


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes: list = []


def _body(request) -> Mapping[str, Any]:
    """The request's fields; a JSON body that is not an object is refused like any other bad input."""
    data = request.data
    if not isinstance(data, Mapping):
        raise ServiceError("invalid_input", _("请求内容应为 JSON 对象或表单"))
    return data


PROGRAM = {"program": serializers.CharField(help_text="the program's code")}
SUBMIT_MULTIPART = declared_fields_body(
    "ClaimSubmitMultipart", DECLARED_FIELD_NAMES, files=True, uploads=True, all_required=True, extra=PROGRAM
)
SUBMIT_JSON = declared_fields_body(
    "ClaimSubmitJson", DECLARED_FIELD_NAMES, files=False, uploads=True, all_required=True, extra=PROGRAM
)


class ClaimSubmitView(PublicView):
    """Multipart with the five files, or JSON naming a staged upload for each (`invoice_upload`, ...)."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = [ClientThrottle]
    throttle_scope = "submit"

    @extend_schema(
        summary="Submit a claim (multipart, or JSON with staged upload ids)",
        request={"multipart/form-data": SUBMIT_MULTIPART, "application/json": SUBMIT_JSON},
    )
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip() or None  # checked by the input guard
        data = _body(request)
        result = claim_submit(str(data.get("program", "")), data, request.FILES, idempotency_key=key)
        response = Response(result.body, status=result.status_code)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class ClaimCheckView(PublicView):
    """The dry run of a submission: 200 {ok, subsidy_amount} or the refusal the submission would get."""

    parser_classes = [JSONParser, MultiPartParser, FormParser]
    throttle_classes = [ClientThrottle]
    throttle_scope = "check"

    @extend_schema(
        summary="Check a claim without submitting it",
        request={"application/json": SUBMIT_JSON, "multipart/form-data": SUBMIT_MULTIPART},
    )
    def post(self, request):
        data = _body(request)
        return Response(claim_check(str(data.get("program", "")), data, request.FILES))


class UploadView(PublicView):
    """Stage one document (multipart `kind`, `file`) before submitting; 201 with its upload id."""

    parser_classes = [MultiPartParser]
    throttle_classes = [ClientThrottle]
    throttle_scope = "upload"

    @extend_schema(
        summary="Stage a document",
        request={
            "multipart/form-data": single_file_body(
                "UploadMultipart",
                "a JPEG, PNG or PDF file (or an OFD invoice)",
                kind=serializers.ChoiceField(choices=DOCUMENT_KINDS),
            )
        },
    )
    def post(self, request):
        address = ClientThrottle().get_ident(request)
        upload = upload_stage(str(request.data.get("kind", "")), request.FILES.get("file"), address)
        return Response(upload_public(upload), status=201)


class ClaimIdentitySerializer(serializers.Serializer):
    claim_number = serializers.CharField(max_length=32)
    id_number = serializers.CharField(max_length=32)


class ClaimLookupView(PublicView):
    parser_classes = [JSONParser, FormParser]
    throttle_classes = [ClientThrottle, ClaimNumberThrottle]
    throttle_scope = "lookup"

    @extend_schema(summary="Find a claim by number and ID number", request=ClaimIdentitySerializer)
    def post(self, request):
        data = ClaimIdentitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = claim_for_applicant(data.validated_data["claim_number"], data.validated_data["id_number"])
        return Response(claim_for_applicant_view(claim))


class WithdrawSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=32)
    phone_last4 = serializers.RegexField(
        r"^[0-9]{4}$", max_length=4, help_text="last four digits of the phone"
    )


class ClaimWithdrawView(PublicView):
    parser_classes = [JSONParser, FormParser]
    throttle_classes = [ClientThrottle, ClaimNumberThrottle]
    throttle_scope = "lookup"

    @extend_schema(summary="Withdraw a claim", request=WithdrawSerializer)
    def post(self, request, claim_number: str):
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = claim_withdraw(
            claim_number, data.validated_data["id_number"], data.validated_data["phone_last4"]
        )
        return Response(claim_for_applicant_view(claim))
