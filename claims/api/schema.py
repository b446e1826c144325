"""Request bodies of the views that parse their input in a service, described for the OpenAPI schema only.

The submission, the dry run, the correction, the new bank details and the staged upload read their fields through
`claim_input_parse` and friends, not through a serializer; these descriptions say what those accept, built from
the vocabulary so that a declared field added there appears here too. Nothing validates with them.
"""

from __future__ import annotations

from collections.abc import Iterable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field, inline_serializer
from rest_framework import serializers

from claims.intake.uploads import upload_field
from claims.vocabulary import DOCUMENT_KINDS, FIELDS, FuelType


@extend_schema_field(OpenApiTypes.BINARY)
class UploadedFile(serializers.FileField):
    """A file part of a multipart body (the default rendering of a file field is the URL of a stored one)."""


def _declared(name: str, *, required: bool) -> serializers.Field:
    field = FIELDS[name]
    label = str(field.applicant_label)
    if field.kind == "date":
        return serializers.DateField(required=required, help_text=label)
    if field.kind == "choice":
        return serializers.ChoiceField(choices=FuelType.values, required=required, help_text=label)
    if field.kind == "money":
        return serializers.CharField(required=required, help_text=f"{label}: yuan as a decimal string")
    return serializers.CharField(required=required, help_text=label)


def declared_fields_body(
    name: str,
    fields: Iterable[str],
    *,
    files: bool,
    uploads: bool,
    all_required: bool = False,
    extra: dict[str, serializers.Field] | None = None,
) -> serializers.Serializer:
    """A request body of declared fields, each document as a file (`files`) and/or a staged upload id
    (`uploads`). With `all_required` the fields are required as the vocabulary says, otherwise all optional."""
    body: dict[str, serializers.Field] = dict(extra or {})
    for field_name in fields:
        body[field_name] = _declared(field_name, required=all_required and FIELDS[field_name].required)
    for kind in DOCUMENT_KINDS:
        if files:
            body[kind] = UploadedFile(required=False, help_text=f"the {kind} document")
        if uploads:
            body[upload_field(kind)] = serializers.CharField(
                required=not files, help_text=f"upload_id of a staged {kind} document"
            )
    return inline_serializer(name, body)


def single_file_body(name: str, help_text: str, **extra: serializers.Field) -> serializers.Serializer:
    """A multipart body with one required `file` (and `extra` fields)."""
    return inline_serializer(name, {**extra, "file": UploadedFile(help_text=help_text)})
