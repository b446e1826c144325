"""An applicant's appeal against a rejection: one per claim, decided by a reviewer who did not reject it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from claims.intake.models import Claim


class AppealDecision(models.TextChoices):
    UPHELD = "upheld", _("申诉成立，恢复审核")
    DISMISSED = "dismissed", _("申诉不成立，维持不通过")


class Appeal(models.Model):
    Decision = AppealDecision

    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="appeal")
    reason = models.TextField(_("申诉理由"))
    documents = models.JSONField(_("重新提交的材料"), default=list, blank=True)
    rejected_at = models.DateTimeField(_("不通过时间"))
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    rejection_reason = models.TextField(_("不通过原因"), blank=True)
    submitted_at = models.DateTimeField(_("申诉时间"), auto_now_add=True)
    decision = models.CharField(_("复核结果"), max_length=10, choices=AppealDecision.choices, blank=True)
    decided_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    note = models.TextField(_("复核意见"), blank=True)

    class Meta:
        verbose_name = _("申诉")
        verbose_name_plural = _("申诉")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(decision="") & Q(decided_at__isnull=True))
                | (Q(decision__in=["upheld", "dismissed"]) & Q(decided_at__isnull=False)),
                name="appeal_decided_consistently",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.decision or 'pending'}"
