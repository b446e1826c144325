"""Answers for failures that are not the client's fault, and the cap on request bodies.

- A request body larger than MAX_REQUEST_BODY_BYTES is refused from its Content-Length, before Django reads or
  spools any of it: 413 ``request_too_large``. A Content-Length that is not a number is 400 ``invalid_input``.
- An infrastructure failure (the database or the broker not answering, the disk full or read-only) is 503
  ``service_unavailable`` with ``Retry-After``: the client may retry, with the same Idempotency-Key for a
  submission, and nothing was half-written (every action is one transaction).
- Anything else unexpected is 500 ``server_error``, still JSON on the API and a Chinese page elsewhere.

The API (``/api/``) answers JSON ``{code, message}``; the pages answer a short Chinese HTML page.
"""

from __future__ import annotations

import errno
import logging
import sys

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.db import DatabaseError, InterfaceError, InternalError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from subsidy.isolation import ChildStalled

__all__ = [
    "RETRY_AFTER_SECONDS",
    "InfrastructureErrorMiddleware",
    "RequestBodyLimitMiddleware",
    "error_response",
    "is_infrastructure_error",
    "server_error",
]

logger = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = 30

# Errors of the disk rather than of the request: full, over quota, read-only, failing.
_DISK_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO})
_BROKER_ERRORS = (
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def is_infrastructure_error(exc: BaseException) -> bool:
    """True for a failure of a service the request needed (database, broker, cache, disk), not of the request."""
    seen = 0
    while exc is not None and seen < 8:
        if isinstance(exc, OperationalError | InterfaceError | InternalError) or type(exc) is DatabaseError:
            return True
        if isinstance(exc, (*_BROKER_ERRORS, ChildStalled)):  # a parsing child overloaded or blocked
            return True
        if isinstance(exc, OSError) and exc.errno in _DISK_ERRNOS:
            return True
        if isinstance(exc, ConnectionError):  # the socket to a service was refused or reset
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", "")


def error_response(
    request: HttpRequest, status: int, code: str, message: str, title: str, retry_after: int | None = None
) -> HttpResponse:
    if _wants_json(request):
        response: HttpResponse = JsonResponse({"code": code, "message": message}, status=status)
    else:
        # A page of its own, without the site's context processors: those may need the database.
        html = render_to_string(
            "errors/page.html", {"title": title, "message": message, "retry_after": retry_after}
        )
        response = HttpResponse(html, status=status, content_type="text/html; charset=utf-8")
    if retry_after:
        response["Retry-After"] = str(retry_after)
    response["Cache-Control"] = "no-store"
    return response


def service_unavailable(request: HttpRequest, exc: BaseException) -> HttpResponse:
    logger.error(
        "infrastructure failure on %s %s: %s: %s", request.method, request.path, type(exc).__name__, exc
    )
    return error_response(
        request,
        503,
        "service_unavailable",
        _("系统暂时无法处理请求，请稍后重试；本次请求未生效，重试不会重复办理。"),
        _("系统繁忙，请稍后再试"),
        retry_after=RETRY_AFTER_SECONDS,
    )


class InfrastructureErrorMiddleware:
    """Turns infrastructure failures raised by a view into 503 ``service_unavailable`` with Retry-After."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if is_infrastructure_error(exception):
            return service_unavailable(request, exception)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500: what escaped everything else (also failures in middleware, e.g. saving a session)."""
    exc = sys.exc_info()[1]
    if exc is not None and is_infrastructure_error(exc):
        return service_unavailable(request, exc)
    return error_response(
        request,
        500,
        "server_error",
        _("系统内部错误，请稍后重试；如果问题持续，请联系经办窗口。"),
        _("系统内部错误"),
    )


class RequestBodyLimitMiddleware:
    """Refuses an oversized body from its Content-Length before anything reads it (first in MIDDLEWARE).

    Without a Content-Length (a chunked body) Django reads no body at all, so the declared length is the bound.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        limit = settings.MAX_REQUEST_BODY_BYTES
        try:
            length = int(declared)
            if length < 0:
                raise ValueError(declared)
        except ValueError:
            return self._close(
                error_response(
                    request, 400, "invalid_input", _("请求头 Content-Length 无效。"), _("请求无效")
                )
            )
        if length > limit:
            mb = f"{limit / (1024 * 1024):g}"
            return self._close(
                error_response(
                    request,
                    413,
                    "request_too_large",
                    _("提交的内容过大：一次请求不能超过 %(mb)s MB。") % {"mb": mb},
                    _("提交的内容过大"),
                )
            )
        return self.get_response(request)

    @staticmethod
    def _close(response: HttpResponse) -> HttpResponse:
        response["Connection"] = "close"  # the unread body must not be taken for the next request
        return response
