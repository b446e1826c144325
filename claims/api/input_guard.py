"""The first gate for every request: malformed input gets a 400 with a code before any view or database sees it.

Control characters (NUL above all: PostgreSQL cannot store it in text) are refused in the path, the query string,
the `Idempotency-Key` header and every text field of a form or JSON body (line breaks and tabs are allowed in
bodies, for notes and reasons). A body Django cannot parse (broken multipart, too many fields, too large, not
UTF-8) is refused the same way, and on the API a file sent where text is expected is refused by name.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpResponseBadRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _

from claims.intake.models import IdempotencyRecord
from claims.vocabulary import DocumentKind

CONTROL_IN_URL = re.compile(r"[\x00-\x1f\x7f]")
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Multipart fields of the API that take a file; any other file part is a file where text is expected.
API_FILE_FIELDS = frozenset(DocumentKind.values) | {"file"}
MAX_JSON_DEPTH = 20
IDEMPOTENCY_HEADER = "Idempotency-Key"
IDEMPOTENCY_KEY_MAX_LENGTH = IdempotencyRecord._meta.get_field("key").max_length


class BadInput(Exception):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def _json_strings(value, path: str = "", depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > MAX_JSON_DEPTH:
        raise BadInput(path or None, _("数据嵌套过深"))
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield path, str(key)
            yield from _json_strings(item, str(key) if not path else f"{path}.{key}", depth + 1)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item, path, depth + 1)


def _check(request) -> None:
    if CONTROL_IN_URL.search(request.path):
        raise BadInput(None, _("网址中含有不允许的控制字符"))
    for key, values in request.GET.lists():
        if CONTROL_IN_URL.search(key) or any(CONTROL_IN_URL.search(v) for v in values):
            raise BadInput(key[:64], _("查询参数中含有不允许的控制字符"))
    # The one request header the API stores (PostgreSQL cannot even compare a text column with a NUL). A key
    # longer than its column is refused, not cut: cutting would make two different long keys one.
    idempotency_key = request.headers.get(IDEMPOTENCY_HEADER, "")
    if CONTROL_IN_URL.search(idempotency_key):
        raise BadInput(IDEMPOTENCY_HEADER, _("请求头 Idempotency-Key 中含有不允许的控制字符"))
    if len(idempotency_key.strip()) > IDEMPOTENCY_KEY_MAX_LENGTH:
        raise BadInput(
            IDEMPOTENCY_HEADER, _("Idempotency-Key 最长 %(n)s 个字符") % {"n": IDEMPOTENCY_KEY_MAX_LENGTH}
        )
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    content_type = request.content_type or ""
    if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for key, values in request.POST.lists():
            if CONTROL_IN_TEXT.search(key) or any(CONTROL_IN_TEXT.search(v) for v in values):
                raise BadInput(key[:64], _("含有不允许的控制字符"))
        if request.path.startswith("/api/"):
            for key in request.FILES:
                if key not in API_FILE_FIELDS:
                    raise BadInput(key[:64], _("这里应填写文字，不能上传文件"))
    elif content_type == "application/json" and request.body:
        try:
            data = json.loads(request.body)
        except (ValueError, RecursionError):
            raise BadInput(None, _("请求内容不是有效的 JSON")) from None
        for field, text in _json_strings(data):
            if CONTROL_IN_TEXT.search(text):
                raise BadInput(field[:64] or None, _("含有不允许的控制字符"))


def _refusal(request, exc: BadInput):
    message = exc.message
    if request.path.startswith("/api/"):
        body: dict = {"code": "invalid_input", "message": message}
        if exc.field:
            body["fields"] = {exc.field: [{"code": "invalid_input", "message": message}]}
        return JsonResponse(body, status=400)
    return HttpResponseBadRequest(
        f"{message}{'：' + exc.field if exc.field else ''}".encode(), content_type="text/plain; charset=utf-8"
    )


class InputGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            _check(request)
        except BadInput as exc:
            return _refusal(request, exc)
        except (MultiPartParserError, TooManyFieldsSent, TooManyFilesSent, UnicodeDecodeError, ValueError):
            return _refusal(request, BadInput(None, _("请求内容格式不正确")))
        except RequestDataTooBig:
            return _refusal(request, BadInput(None, _("请求内容过大")))
        return self.get_response(request)
