"""Public API of programs: the list, one program, and the subsidy quote."""

from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from claims.errors import ServiceError
from claims.intake.api import PublicView
from claims.models import Program
from claims.money import money_str, parse_money
from claims.programs.selectors import program_public, programs_with_waitlist
from claims.programs.services import subsidy_quote
from claims.vocabulary import FuelType


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
            OpenApiParameter("fuel_type", str, required=True, enum=FuelType.values),
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
