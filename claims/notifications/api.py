"""The public claim-number recovery: ID number + phone; the number goes by SMS to that phone, never on screen."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response

from claims.api.throttling import ClientThrottle
from claims.errors import FieldError, ValidationFailed
from claims.intake.api import PublicView
from claims.intake.validators import validate_id_number, validate_phone
from claims.notifications.services import claim_number_recover


def recovery_message() -> str:
    return _("如果身份证号和手机号与某件申请相符，申请编号已通过短信发送到该手机，请注意查收。")


def recovery_parse(raw) -> tuple[str, str]:
    """Validate the two inputs (the format only: this says nothing about whether a claim exists)."""
    errors: list[FieldError] = []
    values = {}
    for name, validate in (("id_number", validate_id_number), ("phone", validate_phone)):
        value = raw.get(name)
        if not isinstance(value, str) or not value.strip():
            errors.append(FieldError("required", _("此项必填"), name))
            continue
        try:
            values[name] = validate(value)
        except FieldError as exc:
            errors.append(exc.for_field(name))
    if errors:
        raise ValidationFailed(errors)
    return values["id_number"], values["phone"]


class RecoverSerializer(serializers.Serializer):
    id_number = serializers.CharField(max_length=32)
    phone = serializers.CharField(max_length=20)


class ClaimNumberRecoverView(PublicView):
    parser_classes = [JSONParser, FormParser]
    throttle_classes = [ClientThrottle]
    throttle_scope = "recover"

    @extend_schema(summary="Send the claim number by SMS to the applicant's phone", request=RecoverSerializer)
    def post(self, request):
        id_number, phone = recovery_parse(request.data)
        claim_number_recover(id_number, phone)
        return Response({"sent": True, "message": recovery_message()})
