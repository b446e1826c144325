"""Request bodies of the staff API. Responses are built by the selectors."""

from __future__ import annotations

from rest_framework import serializers


class ApproveSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class RejectSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    reason_code = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")


class ReturnSerializer(RejectSerializer):
    fields = serializers.ListField(child=serializers.CharField(max_length=40), required=False, default=list)
    documents = serializers.ListField(
        child=serializers.CharField(max_length=40), required=False, default=list
    )
