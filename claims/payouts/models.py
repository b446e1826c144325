"""Payouts: one instruction per payment attempt, batches approved by two people, result imports.

A claim's first `Payout` is created by a Celery task after the claim is approved; a new one is created after the
applicant gives new bank details following a failed payment. The database guarantees that a claim never has two
open-or-paid payouts at once, and never two successful ones.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from claims.base import AppendOnlyModel
from claims.crypto import EncryptedTextField
from claims.programs.models import MONEY


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("待编批/待发送")
    BATCHED = "batched", _("已编入批次")
    SUBMITTED = "submitted", _("已提交银行，结果待确认")
    PAID = "paid", _("已发放")
    FAILED = "failed", _("发放失败")
    CANCELLED = "cancelled", _("已作废")


# A claim has at most one payout in these statuses (the DB enforces it): the one that may still pay, or did.
OPEN_PAYOUT_STATUSES = (PayoutStatus.PENDING, PayoutStatus.BATCHED, PayoutStatus.SUBMITTED)
LIVE_PAYOUT_STATUSES = (*OPEN_PAYOUT_STATUSES, PayoutStatus.PAID)


class PayoutBatch(models.Model):
    """A set of payouts exported to the bank as one file, after a second finance user approved it."""

    class Status(models.TextChoices):
        CREATED = "created", _("待复核")
        APPROVED = "approved", _("已复核，可导出")
        COMPLETED = "completed", _("已全部回盘")
        CANCELLED = "cancelled", _("已作废")

    program = models.ForeignKey(
        "claims.Program",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payout_batches",
        verbose_name=_("补贴项目"),
    )
    status = models.CharField(_("状态"), max_length=10, choices=Status.choices, default=Status.CREATED)
    count = models.PositiveIntegerField(_("笔数"), default=0)
    total = models.DecimalField(_("总金额"), default=0, **MONEY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("复核人"),
    )
    approved_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("发放批次")
        verbose_name_plural = _("发放批次")
        ordering = ["-id"]
        constraints = [
            # Two people for every payment: the approver is never the creator.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("created_by")),
                name="payout_batch_four_eyes",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["created", "cancelled"]) | Q(approved_by__isnull=False),
                name="payout_batch_approved_has_approver",
            ),
            models.CheckConstraint(condition=Q(total__gte=0), name="payout_batch_total_nonnegative"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk}"


class PayoutBankFile(AppendOnlyModel):
    """One bank file of a batch (format and layout), written once at its first download and served byte for byte
    afterwards, checked against its SHA-256."""

    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="bank_files")
    fmt = models.CharField(_("文件格式"), max_length=4)
    layout = models.CharField(_("银行文件格式"), max_length=40)
    stored_name = models.CharField(_("存储文件名"), max_length=200)
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("银行文件")
        verbose_name_plural = _("银行文件")
        ordering = ["batch_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "fmt", "layout"], name="payout_bank_file_unique"),
        ]


class Payout(models.Model):
    """One payment attempt for one claim, with the payee details as they were when it was created."""

    claim = models.ForeignKey(
        "claims.Claim", on_delete=models.PROTECT, related_name="payouts", verbose_name=_("申请")
    )
    program = models.ForeignKey(
        "claims.Program", on_delete=models.PROTECT, related_name="payouts", verbose_name=_("补贴项目")
    )
    attempt = models.PositiveSmallIntegerField(_("第几次发放"), default=1)
    status = models.CharField(
        _("状态"), max_length=10, choices=PayoutStatus.choices, default=PayoutStatus.PENDING, db_index=True
    )
    amount = models.DecimalField(_("金额"), **MONEY)
    payee_name = models.CharField(_("收款人"), max_length=60)
    bank_name = models.CharField(_("开户银行"), max_length=100)
    bank_account = EncryptedTextField(_("银行卡号"))
    bank_account_masked = models.CharField(_("银行卡号"), max_length=19)
    batch = models.ForeignKey(
        PayoutBatch,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="payouts",
        verbose_name=_("发放批次"),
    )
    bank_reference = models.CharField(_("银行流水号"), max_length=64, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)
    submitted_at = models.DateTimeField(_("提交银行时间"), null=True, blank=True)
    send_attempts = models.PositiveSmallIntegerField(_("接口发送次数"), default=0)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("发放指令")
        verbose_name_plural = _("发放指令")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "attempt"], name="payout_unique_attempt"),
            # Never two successful payouts for one claim.
            models.UniqueConstraint(
                fields=["claim"], condition=Q(status="paid"), name="payout_one_paid_per_claim"
            ),
            # At most one payout that is pending, in flight or paid: a retry exists only after a failure.
            models.UniqueConstraint(
                fields=["claim"],
                condition=Q(status__in=["pending", "batched", "submitted", "paid"]),
                name="payout_one_live_per_claim",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="payout_amount_positive"),
            models.CheckConstraint(
                condition=~Q(status="paid") | ~Q(bank_reference=""), name="payout_paid_has_reference"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "batch"], name="payout_status_batch"),
            models.Index(fields=["bank_reference"], name="payout_bank_reference"),
        ]

    def __str__(self) -> str:
        return f"payout {self.pk} ({self.claim_id}/{self.attempt})"


class PayoutResultImport(AppendOnlyModel):
    """One uploaded bank results file: who, when, its checksum, and what it changed."""

    batch = models.ForeignKey(
        PayoutBatch, on_delete=models.PROTECT, related_name="result_imports", verbose_name=_("发放批次")
    )
    sha256 = models.CharField(_("SHA-256 校验值"), max_length=64)
    file_name = models.CharField(_("文件名"), max_length=200)
    stored_name = models.CharField(_("存储文件名"), max_length=200)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    lines = models.PositiveIntegerField(_("行数"), default=0)
    paid = models.PositiveIntegerField(_("成功笔数"), default=0)
    failed = models.PositiveIntegerField(_("失败笔数"), default=0)
    unchanged = models.PositiveIntegerField(_("未变笔数"), default=0)
    created_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("银行回盘文件")
        verbose_name_plural = _("银行回盘文件")
        ordering = ["-id"]


class _StatusEvent(AppendOnlyModel):
    """One status change, written by the transition function in the same transaction."""

    from_status = models.CharField(max_length=10)
    to_status = models.CharField(max_length=10)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        abstract = True


class PayoutEvent(_StatusEvent):
    payout = models.ForeignKey(Payout, on_delete=models.PROTECT, related_name="events")

    class Meta:
        verbose_name = _("发放指令状态记录")
        verbose_name_plural = _("发放指令状态记录")
        ordering = ["payout_id", "id"]


class PayoutBatchEvent(_StatusEvent):
    batch = models.ForeignKey(PayoutBatch, on_delete=models.PROTECT, related_name="events")

    class Meta:
        verbose_name = _("发放批次状态记录")
        verbose_name_plural = _("发放批次状态记录")
        ordering = ["batch_id", "id"]
