from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from claims.base import AppendOnlyModel


class AuditLog(AppendOnlyModel):
    """Who did what, when, from where: decisions, changes, and every display of unmasked personal data."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作账号")
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    action = models.CharField(_("操作"), max_length=60, db_index=True)
    claim = models.ForeignKey(
        "claims.Claim",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="audit",
        verbose_name=_("申请"),
    )
    object_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    object_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-id"]
        # The admin's exact searches (the claim and the action have their own indexes).
        indexes = [
            models.Index(fields=["actor_label"], name="audit_actor_label"),
            models.Index(fields=["object_id"], name="audit_object_id"),
            models.Index(fields=["ip_address"], name="audit_ip_address"),
        ]
