"""Public API: programs, quotes, claim submission, lookup and withdrawal"""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from claims.errors import ServiceError
from claims.intake.applicant import claim_for_applicant, claim_withdraw
from claims.intake.selectors import claim_for_applicant_view, program_public, programs_with_waitlist
from claims.intake.services import claim_submit
from claims.models import Program
from claims.money import money_str, parse_money
from claims.programs.services import subsidy_quote


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes: list = []


class ProgramListView(PublicView):
    @extend_schema(summary="List programs")
    def get(self, request):
        return Response([program_public(p) for p in programs_with_waitlist().prefetch_related("dealers")])


class ProgramDetailView(PublicView):
    @extend_schema(summary="One program with its budget and status")
    def get(self, request, code: str):
        program = get_object_or_404(programs_with_waitlist().prefetch_related("dealers"), code=code)
        return Response(program_public(program))


class QuoteView(PublicView):
    @extend_schema(
        summary="Subsidy for an invoice amount and fuel type",
        parameters=[
            OpenApiParameter("invoice_amount", str, required=True),
            OpenApiParameter("fuel_type", str, required=True, enum=["fuel", "nev"]),
        ],
    )
    def get(self, request, code: str):
        program = get_object_or_404(Program.objects.prefetch_related("tiers"), code=code)
        amount = parse_money(request.query_params.get("invoice_amount"))
        if amount is None or amount < 0:
            raise ServiceError("invalid_amount", _("请填写正确的发票金额（元，最多两位小数）"))
        quote = subsidy_quote(list(program.tiers.all()), amount, request.query_params.get("fuel_type", ""))
        if quote.code == "invalid_fuel_type":
            raise ServiceError(quote.code, quote.message)
        if not quote.eligible:
            return Response({"eligible": False, "code": quote.code, "message": quote.message})
        tier = quote.tier
        return Response(
            {
                "eligible": True,
                "subsidy_amount": money_str(quote.amount),
                "tier": {"above": money_str(tier.above), "up_to": money_str(tier.up_to)},
            }
        )


class ClaimSubmitView(PublicView):
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "submit"

    @extend_schema(summary="Submit a claim (multipart)", request={"multipart/form-data": dict})
    def post(self, request):
        key = request.headers.get("Idempotency-Key", "").strip()[:128] or None
        result = claim_submit(
            request.data.get("program", ""), request.data, request.FILES, idempotency_key=key
        )
        response = Response(result.body, status=result.status_code)
        if result.replayed:
            response["Idempotent-Replayed"] = "true"
        return response


class ClaimIdentitySerializer(serializers.Serializer):
    claim_number = serializers.CharField(max_length=32)
    id_number = serializers.CharField(max_length=32)


class ClaimLookupView(PublicView):
    parser_classes = [JSONParser, FormParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "lookup"

    @extend_schema(summary="Find a claim by number and ID number", request=ClaimIdentitySerializer)
    def post(self, request):
        data = ClaimIdentitySerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = claim_for_applicant(data.validated_data["claim_number"], data.validated_data["id_number"])
        return Response(claim_for_applicant_view(claim))


class WithdrawSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=32)


class ClaimWithdrawView(PublicView):
    parser_classes = [JSONParser, FormParser]
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "lookup"

    @extend_schema(summary="Withdraw a claim", request=WithdrawSerializer)
    def post(self, request, claim_number: str):
        data = WithdrawSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = claim_withdraw(claim_number, data.validated_data["id_number"])
        return Response(claim_for_applicant_view(claim))
