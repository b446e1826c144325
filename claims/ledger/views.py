"""The public ledger pages: the publications of a program, and checking a file against the chain."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_http_methods

from claims.ledger.selectors import publication_public, publications
from claims.ledger.services import ledger_verify
from claims.models import Program

# A ledger file is small (a few hundred bytes per claim); anything far larger is not one.
MAX_VERIFY_BYTES = 20 * 1024 * 1024


@require_http_methods(["GET", "HEAD"])
def ledger_page(request: HttpRequest, code: str) -> HttpResponse:
    program = get_object_or_404(Program, code=code)
    rows = [publication_public(p) for p in publications(program)]
    return render(request, "public/ledger.html", {"program": program, "publications": rows})


@require_http_methods(["GET", "HEAD", "POST"])
def ledger_verify_page(request: HttpRequest, code: str) -> HttpResponse:
    program = get_object_or_404(Program, code=code)
    rows = [publication_public(p) for p in publications(program)]
    context = {"program": program, "publications": rows, "result": None, "error": None}
    status = 200
    if request.method == "POST":
        upload = request.FILES.get("file")
        seq_text = (request.POST.get("seq") or "").strip()
        seq = int(seq_text) if seq_text.isdigit() and len(seq_text) < 9 else None
        if upload is None or upload.size == 0:
            context["error"], status = "missing_file", 400
        elif upload.size > MAX_VERIFY_BYTES:
            context["error"], status = "too_large", 400
        else:
            context["result"] = ledger_verify(program, upload.read(), seq)
    return render(request, "public/ledger_verify.html", context, status=status)
