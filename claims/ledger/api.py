"""Public API of the ledger (公示): the list of publications and each publication's file."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from claims.intake.api import PublicView
from claims.ledger.models import LedgerPublication
from claims.ledger.selectors import publication_file_name, publication_public, publications
from claims.models import Program


class LedgerListView(PublicView):
    @extend_schema(summary="The public ledger of a program: its publications, oldest first")
    def get(self, request, code: str):
        program = get_object_or_404(Program, code=code)
        return Response([publication_public(p) for p in publications(program)])


class LedgerFileView(PublicView):
    @extend_schema(summary="One publication's CSV file (its bytes are what the hash chain covers)")
    def get(self, request, code: str, seq: int):
        publication = get_object_or_404(LedgerPublication, program__code=code, seq=seq)
        response = HttpResponse(bytes(publication.content), content_type="text/csv; charset=utf-8")
        name = publication_file_name(publication.program, seq)
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["X-Ledger-SHA256"] = publication.sha256
        return response
