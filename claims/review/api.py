"""Staff API (docs/api.md): token, the claim queue, one claim, and the reviewers' decisions."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.accounts.roles import REVIEWER, HasRole, IsStaffRole
from claims.review import services as review
from claims.review.pii import claim_staff_view
from claims.review.selectors import claim_list_row, staff_claims
from claims.review.serializers import (
    ApproveSerializer,
    RejectSerializer,
    ReturnSerializer,
)

PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
LIST_FILTERS = ("status", "fuel_type", "tier", "failing_check", "dealer", "program", "channel", "q")


class StaffView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsStaffRole]
    parser_classes = [JSONParser, FormParser]


class ReasonListView(StaffView):
    @extend_schema(summary="Standard reasons for returning and rejecting claims")
    def get(self, request):
        return Response(
            {
                "return": review.reason_choices("return"),
                "reject": review.reason_choices("reject"),
                "returnable_fields": list(review.RETURNABLE_FIELDS),
                "returnable_documents": list(review.RETURNABLE_DOCUMENTS),
            }
        )


def _int(value: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


class StaffClaimListView(StaffView):
    @extend_schema(
        summary="Claims in arrival order (paginated, no total count)",
        parameters=[OpenApiParameter(name, str) for name in LIST_FILTERS]
        + [OpenApiParameter("page", int), OpenApiParameter("page_size", int)],
    )
    def get(self, request):
        page = _int(request.query_params.get("page"), 1, 1, 1_000_000)
        size = _int(request.query_params.get("page_size"), PAGE_SIZE, 1, MAX_PAGE_SIZE)
        qs = staff_claims({k: request.query_params.get(k, "") for k in LIST_FILTERS})
        rows = list(qs[(page - 1) * size : page * size + 1])  # one extra row tells whether a next page exists
        has_next = len(rows) > size

        def page_url(n: int) -> str:
            params = request.query_params.copy()
            params["page"] = str(n)
            return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

        return Response(
            {
                "page": page,
                "page_size": size,
                "next": page_url(page + 1) if has_next else None,
                "previous": page_url(page - 1) if page > 1 else None,
                "results": [claim_list_row(c) for c in rows[:size]],
            }
        )


def document_url(request):
    return lambda document: request.build_absolute_uri(reverse("api:staff-document", args=[document.pk]))


class StaffClaimDetailView(StaffView):
    @extend_schema(summary="One claim: declared fields, OCR readings, checks, events, documents")
    def get(self, request, claim_number: str):
        return Response(
            claim_staff_view(
                claim_number, user=request.user, request=request, document_url=document_url(request)
            )
        )


class DecisionView(StaffView):
    permission_classes = [HasRole.of(REVIEWER)]

    def detail(self, request, claim) -> Response:
        body = claim_list_row(claim)
        if claim.status == "returned":
            body["returned"] = {
                "reason_code": claim.return_reason_code,
                "reason": claim.return_reason,
                "fields": claim.returned_fields,
                "documents": claim.returned_documents,
                "deadline": claim.correction_deadline.isoformat() if claim.correction_deadline else None,
            }
        elif claim.status == "rejected":
            body["reject_reason"] = claim.reject_reason
        return Response(body)

    def decide(self, request, claim_number: str, serializer_class, service) -> Response:
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        claim = service(claim_number, actor=request.user, request=request, **data.validated_data)
        return self.detail(request, claim)


class ApproveView(DecisionView):
    @extend_schema(summary="Approve a claim (reviewer)", request=ApproveSerializer)
    def post(self, request, claim_number: str):
        return self.decide(request, claim_number, ApproveSerializer, review.claim_approve)


class RejectView(DecisionView):
    @extend_schema(
        summary="Reject a claim (reviewer): money released, waitlist promoted", request=RejectSerializer
    )
    def post(self, request, claim_number: str):
        return self.decide(request, claim_number, RejectSerializer, review.claim_reject)


class ReturnView(DecisionView):
    @extend_schema(
        summary="Return a claim to the applicant for correction (reviewer)", request=ReturnSerializer
    )
    def post(self, request, claim_number: str):
        return self.decide(request, claim_number, ReturnSerializer, review.claim_return)
