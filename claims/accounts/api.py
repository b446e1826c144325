"""The staff API token login."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import FormParser, JSONParser
from rest_framework.response import Response
from rest_framework.views import APIView

from claims.accounts.services import staff_token_obtain
from claims.api.throttling import ClientThrottle


class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class TokenView(APIView):
    authentication_classes: list = []
    permission_classes: list = []
    parser_classes = [JSONParser, FormParser]
    throttle_classes = [ClientThrottle]
    throttle_scope = "auth"

    @extend_schema(summary="Obtain the staff API token", request=TokenRequestSerializer)
    def post(self, request):
        data = TokenRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        token = staff_token_obtain(
            data.validated_data["username"], data.validated_data["password"], request=request
        )
        return Response({"token": token})
