from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from claims.crypto import EncryptedTextField, mask, mask_phone

from .base import AppendOnlyModel
from .programs import MONEY, Program


class ClaimStatus(models.TextChoices):
    UNDER_REVIEW = "under_review", _("审核中")
    WAITLISTED = "waitlisted", _("候补排队中")
    RETURNED = "returned", _("退回补正")
    APPROVED = "approved", _("审核通过，待发放")
    PAID = "paid", _("已发放")
    PAYOUT_FAILED = "payout_failed", _("发放失败")
    REJECTED = "rejected", _("未通过")
    WITHDRAWN = "withdrawn", _("已撤回")


# Statuses whose subsidy is held in `Program.reserved` (CONTRACT §2).
RESERVED_STATUSES = (
    ClaimStatus.UNDER_REVIEW,
    ClaimStatus.RETURNED,
    ClaimStatus.APPROVED,
    ClaimStatus.PAYOUT_FAILED,
)
# A claim in any other status than these blocks a second claim for the same car or invoice.
INACTIVE_STATUSES = (ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN)
ACTIVE_STATUSES = tuple(s for s in ClaimStatus if s not in INACTIVE_STATUSES)


class FuelType(models.TextChoices):
    FUEL = "fuel", _("燃油车（国六及以上）")
    NEV = "nev", _("新能源车")


class DocumentKind(models.TextChoices):
    INVOICE = "invoice", _("机动车销售统一发票")
    ID_CARD_FRONT = "id_card_front", _("身份证人像面")
    ID_CARD_BACK = "id_card_back", _("身份证国徽面")
    VEHICLE_LICENSE = "vehicle_license", _("机动车行驶证")
    POS_SLIP = "pos_slip", _("POS 刷卡小票")


class Channel(models.TextChoices):
    ONLINE = "online", _("线上申请")
    COUNTER = "counter", _("窗口受理")


class Claim(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="claims")
    seq = models.PositiveIntegerField(_("受理序号"))
    claim_number = models.CharField(_("申请编号"), max_length=32, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=ClaimStatus.choices, db_index=True)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    applicant_name = models.CharField(_("申请人姓名"), max_length=60)
    id_number = EncryptedTextField(_("身份证号"))
    id_number_hash = models.CharField(max_length=64, db_index=True, editable=False)
    phone = EncryptedTextField(_("手机号"))
    phone_hash = models.CharField(max_length=64, db_index=True, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    phone_masked = models.CharField(_("手机号"), max_length=11, editable=False)

    fuel_type = models.CharField(_("车辆类型"), max_length=4, choices=FuelType.choices)
    vin = models.CharField(_("车架号（VIN）"), max_length=17)
    plate_number = models.CharField(_("车牌号"), max_length=10, db_index=True)
    vehicle_model = models.CharField(_("厂牌型号"), max_length=100, blank=True)
    invoice_code = models.CharField(_("发票代码"), max_length=12, blank=True)
    invoice_number = models.CharField(_("发票号码"), max_length=20)
    invoice_date = models.DateField(_("开票日期"))
    invoice_amount = models.DecimalField(_("发票价税合计"), **MONEY)
    dealer_credit_code = models.CharField(_("销售方统一社会信用代码"), max_length=18, db_index=True)
    dealer_name = models.CharField(_("销售方名称"), max_length=200, blank=True)
    license_issue_date = models.DateField(_("行驶证发证日期"))
    pos_amount = models.DecimalField(_("POS 刷卡金额"), **MONEY)
    pos_date = models.DateField(_("POS 交易日期"))

    bank_name = models.CharField(_("开户银行"), max_length=100)
    bank_account = EncryptedTextField(_("银行卡号"))
    bank_account_hash = models.CharField(max_length=64, db_index=True, editable=False)
    bank_account_masked = models.CharField(_("银行卡号"), max_length=19, editable=False)
    account_holder = models.CharField(_("户名"), max_length=60)

    tier_position = models.PositiveSmallIntegerField(_("档次"))
    subsidy_amount = models.DecimalField(_("补贴金额"), **MONEY)
    # Set when a correction would raise the subsidy but the money could not be taken without passing an earlier
    # waitlisted claim: the claim keeps `subsidy_amount` and the reviewer sees this flag.
    requested_subsidy_amount = models.DecimalField(_("补正后应补金额"), null=True, blank=True, **MONEY)

    submitted_at = models.DateTimeField(_("提交时间"), db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    return_reason_code = models.CharField(max_length=40, blank=True)
    return_reason = models.TextField(_("退回原因"), blank=True)
    returned_fields = models.JSONField(default=list, blank=True)
    returned_documents = models.JSONField(default=list, blank=True)
    correction_deadline = models.DateField(_("补正截止日期"), null=True, blank=True)
    reject_reason = models.TextField(_("不通过原因"), blank=True)

    paid_at = models.DateTimeField(_("发放时间"), null=True, blank=True)
    bank_reference = models.CharField(_("银行流水号"), max_length=64, blank=True)
    payout_failure_reason = models.CharField(_("发放失败原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("补贴申请")
        verbose_name_plural = _("补贴申请")
        ordering = ["program_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["program", "seq"], name="claim_unique_seq"),
            models.UniqueConstraint(
                fields=["vin"],
                condition=~Q(status__in=["rejected", "withdrawn"]),
                name="claim_one_active_per_vin",
            ),
            models.UniqueConstraint(
                fields=["invoice_code", "invoice_number"],
                condition=~Q(status__in=["rejected", "withdrawn"]),
                name="claim_one_active_per_invoice",
            ),
            models.CheckConstraint(condition=Q(subsidy_amount__gt=0), name="claim_subsidy_positive"),
        ]
        indexes = [
            models.Index(fields=["program", "status", "seq"], name="claim_program_status_seq"),
            models.Index(fields=["status", "submitted_at"], name="claim_status_submitted"),
        ]

    def __str__(self) -> str:
        return self.claim_number

    def set_pii(
        self, *, id_number: str | None = None, phone: str | None = None, bank_account: str | None = None
    ):
        """Set personal data together with its lookup hash and masked copy, so the three never drift apart."""
        from claims.crypto import pii_hash

        if id_number is not None:
            self.id_number, self.id_number_hash, self.id_number_masked = (
                id_number,
                pii_hash(id_number),
                mask(id_number),
            )
        if phone is not None:
            self.phone, self.phone_hash, self.phone_masked = phone, pii_hash(phone), mask_phone(phone)
        if bank_account is not None:
            self.bank_account = bank_account
            self.bank_account_hash = pii_hash(bank_account)
            self.bank_account_masked = mask(bank_account)

    @property
    def holds_reservation(self) -> bool:
        return self.status in RESERVED_STATUSES


class ClaimDocument(models.Model):
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="documents")
    kind = models.CharField(_("材料"), max_length=20, choices=DocumentKind.choices)
    sha256 = models.CharField(_("原文件 SHA-256"), max_length=64, db_index=True)
    stored_sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    storage_name = models.CharField(max_length=200)
    original_name = models.CharField(max_length=200, blank=True)
    is_current = models.BooleanField(default=True)
    uploaded_at = models.DateTimeField(auto_now_add=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["claim_id", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "kind"], condition=Q(is_current=True), name="document_one_current_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.claim_id}:{self.kind}"


class ClaimEvent(AppendOnlyModel):
    """Status history: one row per transition, written in the same transaction as the change."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="events")
    from_status = models.CharField(max_length=16, choices=ClaimStatus.choices, blank=True)
    to_status = models.CharField(max_length=16, choices=ClaimStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True)
    actor_label = models.CharField(max_length=60, blank=True)
    reason_code = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("状态记录")
        verbose_name_plural = _("状态记录")
        ordering = ["claim_id", "id"]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.from_status or '-'} -> {self.to_status}"


class ClaimCheck(models.Model):
    """The latest result of one automated check on a claim (recomputed whenever its inputs change)."""

    class Result(models.TextChoices):
        PASS = "pass", _("通过")
        FAIL = "fail", _("不通过")
        UNKNOWN = "unknown", _("待人工核对")

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="checks")
    code = models.CharField(max_length=40)
    result = models.CharField(max_length=8, choices=Result.choices)
    detail = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["claim_id", "id"]
        constraints = [models.UniqueConstraint(fields=["claim", "code"], name="check_unique_code")]
        indexes = [models.Index(fields=["code", "result"], name="check_code_result")]

    def __str__(self) -> str:
        return f"{self.code}: {self.result}"


class IdempotencyRecord(models.Model):
    """The first answer to a request sent with an `Idempotency-Key`, replayed to retries of the same request."""

    key = models.CharField(max_length=128)
    scope = models.CharField(max_length=40)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField()
    claim = models.ForeignKey(Claim, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")]

    def __str__(self) -> str:
        return f"{self.scope}:{self.key}"
