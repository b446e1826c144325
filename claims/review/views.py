"""The authorised view of a claim's stored document: staff roles only, every display audited."""

from __future__ import annotations

from django.core.exceptions import SuspiciousOperation
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.views import APIView

from claims.accounts.roles import IsStaffRole
from claims.accounts.tokens import ExpiringTokenAuthentication
from claims.intake.documents import document_path
from claims.models import ClaimDocument
from claims.review.pii import can_see_document, document_view_record


class DocumentView(APIView):
    """GET the file of one document (current or replaced), inline, never cached by shared caches."""

    authentication_classes = [ExpiringTokenAuthentication, SessionAuthentication]
    permission_classes = [IsStaffRole]

    def get(self, request, pk: int):
        document = ClaimDocument.objects.select_related("claim").filter(pk=pk).first()
        if document is None:
            raise Http404
        if not can_see_document(request.user, document.kind):
            raise PermissionDenied(_("您的角色不能查看身份证影像"))
        try:
            path = document_path(document.storage_name)
            handle = path.open("rb")
        except (OSError, SuspiciousOperation) as exc:
            raise Http404 from exc
        document_view_record(request.user, document, request=request)
        extension = document.storage_name.rsplit(".", 1)[-1]
        response = FileResponse(
            handle,
            content_type=document.content_type,
            as_attachment=False,
            filename=f"{document.claim.claim_number}-{document.kind}.{extension}",
        )
        response["Cache-Control"] = "private, no-store"
        response["X-Content-Type-Options"] = "nosniff"
        # Every other page refuses to be framed; a document is shown in a frame of the review page.
        response["X-Frame-Options"] = "SAMEORIGIN"
        # Shown inline in a same-origin frame: a sandboxed document runs no script and reaches nothing.
        response["Content-Security-Policy"] = (
            "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
        )
        return response
