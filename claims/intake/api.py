"""Public API of claims: submission, lookup and withdrawal."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from claims.intake.applicant import claim_for_applicant, claim_withdraw
from claims.intake.selectors import claim_for_applicant_view
from claims.intake.services import claim_submit


class PublicView(APIView):
    authentication_classes: list = []
    permission_classes: list = []


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
