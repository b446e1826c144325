from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from claims.base import AppendOnlyModel
from claims.crypto import EncryptedTextField, mask, mask_phone, pii_hash
from claims.programs.models import MONEY, Program
from claims.vocabulary import FIELDS, Channel, CheckResult, ClaimStatus, DocumentKind, FuelType

# Statuses whose subsidy is held in `Program.reserved` (docs/lifecycle.md).
RESERVED_STATUSES = (
    ClaimStatus.UNDER_REVIEW,
    ClaimStatus.RETURNED,
    ClaimStatus.APPROVED,
    ClaimStatus.PAYOUT_FAILED,
)
# A claim in any other status than these blocks a second claim for the same car or invoice.
INACTIVE_STATUSES = (ClaimStatus.REJECTED, ClaimStatus.WITHDRAWN)
ACTIVE_STATUSES = tuple(s for s in ClaimStatus if s not in INACTIVE_STATUSES)


class Claim(models.Model):
    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="claims")
    seq = models.PositiveIntegerField(_("受理序号"))
    claim_number = models.CharField(_("申请编号"), max_length=32, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=ClaimStatus.choices, db_index=True)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices, default=Channel.ONLINE)
    taken_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    applicant_name = models.CharField(FIELDS["applicant_name"].label, max_length=60)
    id_number = EncryptedTextField(FIELDS["id_number"].label)
    id_number_hash = models.CharField(max_length=64, db_index=True, editable=False)
    phone = EncryptedTextField(FIELDS["phone"].label)
    phone_hash = models.CharField(max_length=64, db_index=True, editable=False)
    id_number_masked = models.CharField(_("身份证号"), max_length=18, editable=False)
    phone_masked = models.CharField(_("手机号"), max_length=11, editable=False)

    fuel_type = models.CharField(FIELDS["fuel_type"].label, max_length=4, choices=FuelType.choices)
    vin = models.CharField(FIELDS["vin"].label, max_length=17)
    plate_number = models.CharField(FIELDS["plate_number"].label, max_length=10, db_index=True)
    vehicle_model = models.CharField(FIELDS["vehicle_model"].label, max_length=100, blank=True)
    invoice_code = models.CharField(FIELDS["invoice_code"].label, max_length=12, blank=True)
    invoice_number = models.CharField(FIELDS["invoice_number"].label, max_length=20)
    invoice_date = models.DateField(FIELDS["invoice_date"].label)
    invoice_amount = models.DecimalField(FIELDS["invoice_amount"].label, **MONEY)
    dealer_credit_code = models.CharField(FIELDS["dealer_credit_code"].label, max_length=18, db_index=True)
    dealer_name = models.CharField(FIELDS["dealer_name"].label, max_length=200, blank=True)
    license_issue_date = models.DateField(FIELDS["license_issue_date"].label)
    pos_amount = models.DecimalField(FIELDS["pos_amount"].label, **MONEY)
    pos_date = models.DateField(FIELDS["pos_date"].label)

    bank_name = models.CharField(FIELDS["bank_name"].label, max_length=100)
    bank_account = EncryptedTextField(FIELDS["bank_account"].label)
    bank_account_hash = models.CharField(max_length=64, db_index=True, editable=False)
    bank_account_masked = models.CharField(_("银行卡号"), max_length=19, editable=False)
    account_holder = models.CharField(FIELDS["account_holder"].label, max_length=60)

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

    # What the subsidy was decided under, stored at submission: the tier table's hash and the steps of the
    # quote (invoice amount, band, fuel type, amount), so the claim page can explain its amount for ever.
    program_version = models.CharField(_("项目版本"), max_length=64, blank=True)
    quote_basis = models.JSONField(_("补贴计算依据"), default=dict, blank=True)

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
            # The staff search looks a VIN up exactly (the unique constraint covers active claims only).
            models.Index(fields=["vin"], name="claim_vin"),
            # The settlement's totals and the budget recomputation read only these columns of a program's claims:
            # an index-only scan, already in the order the settlement groups them by (dealer, then its name).
            models.Index(
                fields=[
                    "program",
                    "dealer_credit_code",
                    "-dealer_name",
                    "status",
                    "tier_position",
                    "fuel_type",
                    "subsidy_amount",
                    "seq",
                ],
                name="claim_settlement_cover",
            ),
        ]

    def __str__(self) -> str:
        return self.claim_number

    def set_pii(
        self, *, id_number: str | None = None, phone: str | None = None, bank_account: str | None = None
    ):
        """Set personal data together with its lookup hash and masked copy, so the three never drift apart."""
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

    Result = CheckResult

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


class StagedUpload(models.Model):
    """A document uploaded before its claim is submitted: validated, re-encoded and stored at upload time.

    `upload_id` is an unguessable bearer token (256 random bits); a claim that names it takes the stored file
    without touching the image again. An upload serves at most one claim (`claim` is set once, under the
    program lock); unused uploads are deleted after their `expires_at`.
    """

    upload_id = models.CharField(max_length=64, unique=True)
    kind = models.CharField(_("材料"), max_length=20, choices=DocumentKind.choices)
    sha256 = models.CharField(max_length=64)
    stored_sha256 = models.CharField(max_length=64)
    content_type = models.CharField(max_length=40)
    extension = models.CharField(max_length=8)
    size = models.PositiveIntegerField()
    storage_name = models.CharField(max_length=200, db_index=True)
    original_name = models.CharField(max_length=200, blank=True)
    address_hash = models.CharField(max_length=64, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(db_index=True)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("预上传材料")
        verbose_name_plural = _("预上传材料")
        constraints = [
            models.CheckConstraint(
                condition=Q(claim__isnull=True, used_at__isnull=True)
                | Q(claim__isnull=False, used_at__isnull=False),
                name="staged_upload_used_with_claim",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.upload_id[:8]}"
