"""Every API error is JSON with a machine-readable `code` and a Chinese `message` (docs/api.md)."""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from claims.errors import ServiceError

DRF_CODES = {
    exceptions.NotAuthenticated: ("not_authenticated", lambda: _("需要登录")),
    exceptions.AuthenticationFailed: ("authentication_failed", lambda: _("身份验证失败")),
    exceptions.PermissionDenied: ("permission_denied", lambda: _("无权执行此操作")),
    exceptions.NotFound: ("not_found", lambda: _("未找到")),
    exceptions.MethodNotAllowed: ("method_not_allowed", lambda: _("不支持该请求方法")),
    exceptions.NotAcceptable: ("not_acceptable", lambda: _("不支持请求的格式")),
    exceptions.UnsupportedMediaType: ("unsupported_media_type", lambda: _("不支持的请求内容类型")),
    exceptions.Throttled: ("throttled", lambda: _("请求过于频繁，请稍后再试")),
    exceptions.ParseError: ("parse_error", lambda: _("请求内容无法解析")),
}


def service_error_response(exc: ServiceError) -> Response:
    return Response(exc.as_dict(), status=exc.status)


def _field_errors(detail) -> dict:
    fields = {}
    if isinstance(detail, dict):
        for name, errors in detail.items():
            items = errors if isinstance(errors, list) else [errors]
            fields[name] = [
                {"code": getattr(e, "code", "invalid") or "invalid", "message": str(e)} for e in items
            ]
    return fields


def exception_handler(exc, context):
    if isinstance(exc, ServiceError):
        return service_error_response(exc)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = _field_errors(exc.detail)
        first = next(iter(fields.values()), [{"code": "invalid"}])[0]
        response.data = {
            "code": first["code"],
            "message": _("提交的信息有误，请按提示修改。"),
            "fields": fields,
        }
        return response
    for cls, (code, message) in DRF_CODES.items():
        if isinstance(exc, cls):
            response.data = {"code": code, "message": message()}
            if isinstance(exc, exceptions.Throttled) and exc.wait:
                response.data["retry_after"] = int(exc.wait)
            break
    else:
        response.data = {"code": getattr(exc, "default_code", "error"), "message": str(exc.detail)}
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        response.status_code = status.HTTP_401_UNAUTHORIZED
        response["WWW-Authenticate"] = "Token"
    return response
