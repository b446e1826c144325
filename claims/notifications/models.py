"""The SMS outbox: one row per message, written in the transaction of the change it tells about."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from claims.intake.models import Claim


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Notification(models.Model):
    """A message to a claim's applicant. `key` makes each event's message unique, so it is sent at most once.

    The phone number is not copied here: the sender decrypts it from the claim when it sends. `text` is rendered
    when the row is written and never holds a full ID or bank account number.
    """

    Status = NotificationStatus

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="notifications")
    key = models.CharField(max_length=120, unique=True)
    event = models.CharField(_("事件"), max_length=40)
    text = models.TextField(_("短信内容"))
    params = models.JSONField(default=dict, blank=True)  # the template's values, for providers' templates
    status = models.CharField(
        _("状态"), max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=300, blank=True)
    provider_reference = models.CharField(_("回执编号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信通知")
        verbose_name_plural = _("短信通知")
        ordering = ["id"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="notification_pending")]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="sent", sent_at__isnull=False) | ~Q(status="sent"),
                name="notification_sent_has_time",
            )
        ]

    def __str__(self) -> str:
        return self.key
