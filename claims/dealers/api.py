"""Staff API of dealers' sales records: the upload (reviewers, and dealer accounts for their own sales)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from claims.accounts.roles import DEALER, REVIEWER, HasRole
from claims.api.schema import single_file_body
from claims.dealers.services import MAX_FILE_BYTES, dealer_sales_import
from claims.errors import ServiceError
from claims.review.api import StaffView


class DealerSalesView(StaffView):
    permission_classes = [HasRole.of(REVIEWER, DEALER)]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Import a dealer's sales records (CSV or XLSX; all or nothing)",
        request={
            "multipart/form-data": single_file_body("DealerSalesMultipart", "the sales records, CSV or XLSX")
        },
    )
    def post(self, request):
        upload = request.FILES.get("file")
        if upload is None or isinstance(upload, str):
            raise ServiceError("required", _("请上传销售记录文件（file）"))
        if upload.size > MAX_FILE_BYTES:
            raise ServiceError("invalid_file", _("文件过大（最大 10 MB）"))
        result = dealer_sales_import(request.user, upload.read(), file_name=upload.name, request=request)
        return Response(result.as_dict())
