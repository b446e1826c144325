"""Appeals in the API: the applicant's appeal (public, multipart) and a second reviewer's decision (staff)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from claims.accounts.roles import REVIEWER, HasRole
from claims.api.throttling import ClaimNumberThrottle, ClientThrottle
from claims.appeals.services import appeal_decide, claim_appeal, claim_appeal_view
from claims.intake.api import PublicView
from claims.intake.selectors import claim_for_applicant_view
from claims.review.api import DecisionView


class AppealSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=32)
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


def appeal_body(claim) -> dict:
    return {**claim_for_applicant_view(claim), "appeal": claim_appeal_view(claim)}


class ClaimAppealView(PublicView):
    parser_classes = [MultiPartParser, FormParser, JSONParser]
    throttle_classes = [ClientThrottle, ClaimNumberThrottle]
    throttle_scope = "lookup"

    @extend_schema(
        summary="Appeal a rejection (multipart: id_number, reason, optional documents)",
        request={"multipart/form-data": AppealSerializer},
    )
    def post(self, request, claim_number: str):
        data = AppealSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        claim = claim_appeal(
            claim_number,
            data.validated_data["id_number"],
            data.validated_data["reason"],
            request.FILES,
            request=request,
        )
        return Response(appeal_body(claim))


class AppealDecisionSerializer(serializers.Serializer):
    decision = serializers.CharField(max_length=20)
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class AppealDecisionView(DecisionView):
    permission_classes = [HasRole.of(REVIEWER)]

    @extend_schema(
        summary="Decide an appeal (a reviewer who did not reject the claim): upheld or dismissed",
        request=AppealDecisionSerializer,
    )
    def post(self, request, claim_number: str):
        return self.decide(request, claim_number, AppealDecisionSerializer, appeal_decide)
