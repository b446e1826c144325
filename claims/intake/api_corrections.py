"""Public correction of a returned claim."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.api.schema import declared_fields_body
from claims.api.throttling import ClaimNumberThrottle, ClientThrottle
from claims.intake.selectors import claim_for_applicant_view
from claims.review.services import claim_correct
from claims.vocabulary import CORRECTABLE_FIELDS

CORRECTION = declared_fields_body(
    "ClaimCorrectionMultipart",
    CORRECTABLE_FIELDS,
    files=True,
    uploads=True,
    extra={"id_number": serializers.CharField(max_length=32, help_text="the applicant's ID number")},
)


class ClaimCorrectView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [MultiPartParser, FormParser]
    throttle_classes = [ClientThrottle, ClaimNumberThrottle]
    throttle_scope = "submit"

    @extend_schema(
        summary="Correct a returned claim (multipart: id_number, corrected fields and files)",
        request={"multipart/form-data": CORRECTION, "application/x-www-form-urlencoded": CORRECTION},
    )
    def post(self, request, claim_number: str):
        claim = claim_correct(claim_number, request.data.get("id_number", ""), request.data, request.FILES)
        return Response(claim_for_applicant_view(claim))
