"""Per-document OCR readings."""

from __future__ import annotations

import json
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from claims.crypto import EncryptedTextField

# The fields read from a document that are about a person: sealed with the claim's field encryption. The other
# fields (amounts, dates, invoice code and number, plate, VIN, issuer, validity) stay readable JSON: they describe
# the purchase or the vehicle, are stored unencrypted on the claim too (the VIN and plate are its uniqueness and
# search keys) and identify nobody without the sealed fields.
PERSONAL_OCR_FIELDS = frozenset(
    {
        "name",
        "id_number",
        "buyer_name",
        "buyer_id_number",
        "owner",
        "address",
        "phone",
        "bank_account",
        "card_number",
    }
)


def split_personal(fields: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(open, personal) parts of a reading's fields."""
    personal = {k: v for k, v in fields.items() if k in PERSONAL_OCR_FIELDS}
    return {k: v for k, v in fields.items() if k not in PERSONAL_OCR_FIELDS}, personal


class ReadingStatus(models.TextChoices):
    PENDING = "pending", _("等待识别")
    DONE = "done", _("已识别")
    FAILED = "failed", _("识别失败")
    ENGINE_MISSING = "engine_missing", _("未安装识别引擎")


class DocumentReading(models.Model):
    """What the OCR read from one stored document.

    Keyed on the document and the hash of the stored file: reading the same file again changes nothing, and a
    document whose file hash differs from the reading's is read again.
    """

    document = models.OneToOneField(
        "claims.ClaimDocument",
        on_delete=models.CASCADE,
        related_name="ocr_reading",
        verbose_name=_("申请材料"),
    )
    kind = models.CharField(_("材料"), max_length=20)
    file_sha256 = models.CharField(_("识别文件 SHA-256"), max_length=64, db_index=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ReadingStatus.choices, default=ReadingStatus.PENDING, db_index=True
    )
    engines = models.JSONField(_("使用的引擎"), default=list, blank=True)
    engines_missing = models.JSONField(_("缺少的引擎"), default=list, blank=True)
    # Read and written only through `fields` below, which joins the two halves.
    open_fields = models.JSONField(_("识别字段"), default=dict, blank=True)
    sealed_fields = EncryptedTextField(_("识别的个人信息（加密）"), blank=True, default="")
    error = models.TextField(_("错误"), blank=True)
    seconds = models.FloatField(_("耗时（秒）"), null=True, blank=True)
    timings = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("材料识别结果")
        verbose_name_plural = _("材料识别结果")
        indexes = [models.Index(fields=["status", "updated_at"], name="ocr_reading_status_updated")]

    def __str__(self) -> str:
        return f"{self.kind} #{self.document_id}: {self.status}"

    @property
    def fields(self) -> dict[str, Any]:
        """Every field read, `{name: {value, confidence, confident}}`: the open ones and the decrypted personal ones.

        The one accessor of the fields read: the checks, the review pages and the API all go through it.
        """
        fields = dict(self.open_fields or {})
        if self.sealed_fields:
            fields.update(json.loads(self.sealed_fields))
        return fields

    @fields.setter
    def fields(self, value: dict[str, Any] | None) -> None:
        open_part, personal = split_personal(dict(value or {}))
        self.open_fields = open_part
        self.sealed_fields = json.dumps(personal, ensure_ascii=False, sort_keys=True) if personal else ""

    @property
    def is_finished(self) -> bool:
        return self.status != ReadingStatus.PENDING

    @property
    def engines_missing_detail(self) -> str:
        """Why no engine read this document: the engines configured but not installed, or none configured."""
        missing = "、".join(self.engines_missing or [])
        if not missing:
            return "未配置识别引擎"
        return f"未安装可用的识别引擎（缺少：{missing}）"
