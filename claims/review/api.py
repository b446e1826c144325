"""Staff API (docs/api.md): token, the claim queue, one claim, and the reviewers' decisions."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.accounts.roles import CLAIM_READERS, DEALER, REVIEWER, HasRole, IsStaffRole, has_role
from claims.accounts.tokens import ExpiringTokenAuthentication
from claims.dealers.services import dealer_credit_code
from claims.errors import NotFound
from claims.review import services as review
from claims.review.cursor import claims_after, cursor_for, cursor_key
from claims.review.pii import claim_staff_view
from claims.review.search import claim_full_number_search, search_term_check
from claims.review.selectors import claim_list_row, staff_claims
from claims.review.serializers import (
    ApproveSerializer,
    RejectSerializer,
    ReturnSerializer,
)

PAGE_SIZE, MAX_PAGE_SIZE = 50, 200
LIST_FILTERS = ("status", "fuel_type", "tier", "failing_check", "dealer", "program", "channel", "q")


class StaffView(APIView):
    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
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


def dealer_scope(user) -> str | None:
    """The one seller whose claims a dealer account may read (None: not limited). A dealer account that is not
    bound to a seller reads nothing."""
    if has_role(user, *CLAIM_READERS) or not has_role(user, DEALER):
        return None
    return dealer_credit_code(user) or "-"


def _int(value: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value)))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return default


class StaffClaimListView(StaffView):
    """The queue in arrival order, by page number or, for walking it all, by keyset cursor (`next_cursor`)."""

    permission_classes = [HasRole.of(*CLAIM_READERS, DEALER)]

    @extend_schema(
        summary="Claims in arrival order (paginated by page or by cursor, no total count)",
        parameters=[OpenApiParameter(name, str) for name in LIST_FILTERS]
        + [
            OpenApiParameter("page", int),
            OpenApiParameter("page_size", int),
            OpenApiParameter(
                "cursor", str, description="`next_cursor` of the previous page; `page` is ignored"
            ),
        ],
    )
    def get(self, request):
        cursor = request.query_params.get("cursor", "")
        key = cursor_key(cursor) if cursor else None
        page = None if key else _int(request.query_params.get("page"), 1, 1, 1_000_000)
        size = _int(request.query_params.get("page_size"), PAGE_SIZE, 1, MAX_PAGE_SIZE)
        search_term_check(request.query_params.get("q", ""))
        qs = staff_claims({k: request.query_params.get(k, "") for k in LIST_FILTERS})
        scope = dealer_scope(request.user)
        if scope is not None:
            qs = qs.filter(dealer_credit_code=scope)
        # One extra row tells whether a next page exists.
        if key:
            rows = list(claims_after(qs, key)[: size + 1])
        else:
            rows = list(qs[(page - 1) * size : page * size + 1])
        has_next = len(rows) > size
        rows = rows[:size]
        next_cursor = cursor_for(rows[-1]) if has_next else None

        def list_url(name: str, value: str) -> str:
            params = request.query_params.copy()
            if name == "cursor":
                params.pop("page", None)
            params[name] = value
            return request.build_absolute_uri(f"{request.path}?{params.urlencode()}")

        if key:
            next_url = list_url("cursor", next_cursor) if next_cursor else None
            previous_url = None  # a cursor walks forward only
        else:
            next_url = list_url("page", str(page + 1)) if has_next else None
            previous_url = list_url("page", str(page - 1)) if page > 1 else None
        return Response(
            {
                "page": page,
                "page_size": size,
                "next": next_url,
                "previous": previous_url,
                "next_cursor": next_cursor,
                "results": [claim_list_row(c) for c in rows],
            }
        )


class SearchSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=40)


class StaffClaimSearchView(StaffView):
    """POST a full ID number, phone or bank card number; the claims it belongs to (the number never in a URL)."""

    permission_classes = [HasRole.of(*CLAIM_READERS)]

    @extend_schema(
        summary="Claims by a full ID number, phone or bank card number (POST only)", request=SearchSerializer
    )
    def post(self, request):
        data = SearchSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        found = claim_full_number_search(data.validated_data["number"], request.user, request=request)
        return Response({"results": [claim_list_row(c) for c in found]})


def document_url(request):
    return lambda document: request.build_absolute_uri(reverse("api:staff-document", args=[document.pk]))


class StaffClaimDetailView(StaffView):
    permission_classes = [HasRole.of(*CLAIM_READERS, DEALER)]

    @extend_schema(summary="One claim: declared fields, OCR readings, checks, events, documents")
    def get(self, request, claim_number: str):
        scope = dealer_scope(request.user)
        if (
            scope is not None
            and not staff_claims({"dealer": scope}).filter(claim_number=claim_number).exists()
        ):
            raise NotFound("claim_not_found", _("申请不存在"))
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
