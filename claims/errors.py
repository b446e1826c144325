"""Errors that services raise and the API turns into the contract's JSON.

A refusal always carries a machine-readable `code` (part of the public contract) and a Chinese `message`.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils.translation import gettext_lazy as _


class FieldError(Exception):
    """One problem with one input field."""

    def __init__(self, code: str, message: str, field: str | None = None):
        super().__init__(f"{field or '-'}: {code}: {message}")
        self.code = code
        self.message = str(message)
        self.field = field

    def __reduce__(self):  # travels from the child process that parses a document (subsidy.isolation)
        return (FieldError, (self.code, self.message, self.field))

    def for_field(self, field: str) -> FieldError:
        return FieldError(self.code, self.message, field)

    def as_dict(self) -> dict:
        return {"code": self.code, "message": self.message}


class ServiceError(Exception):
    """A refused action. `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        fields: dict[str, list[FieldError]] | None = None,
    ):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = str(message)
        if status is not None:
            self.status = status
        self.fields = fields or {}

    def as_dict(self) -> dict:
        body: dict = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = {name: [e.as_dict() for e in errors] for name, errors in self.fields.items()}
        return body


class ValidationFailed(ServiceError):
    """Several field errors reported together (every refusal of one submission at once)."""

    def __init__(self, errors: Iterable[FieldError]):
        fields: dict[str, list[FieldError]] = {}
        for error in errors:
            fields.setdefault(error.field or "non_field_errors", []).append(error)
        first = next(iter(fields.values()))[0]
        # The top-level code is the first field's, so a client checking one code still gets a precise one.
        super().__init__(first.code, _("提交的信息有误，请按提示修改。"), status=400, fields=fields)


class Conflict(ServiceError):
    status = 409


class NotFound(ServiceError):
    status = 404


class Forbidden(ServiceError):
    status = 403
