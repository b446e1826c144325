from __future__ import annotations

from decimal import Decimal

from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from claims.base import AppendOnlyModel
from claims.money import ZERO
from claims.vocabulary import FuelType

MONEY = {"max_digits": 14, "decimal_places": 2}


class Program(models.Model):
    """A subsidy program and its budget account.

    The budget figures live on this row so that one row lock serialises every reservation of the program, and
    check constraints make overspending impossible even if a service were wrong.
    """

    code = models.SlugField(_("代码"), max_length=64, unique=True)
    name = models.CharField(_("名称"), max_length=200)
    # Unique, because claim numbers (prefix + sequence) must identify a claim across programs.
    claim_prefix = models.CharField(_("申请编号前缀"), max_length=12, unique=True)
    currency = models.CharField(_("币种"), max_length=3, default="CNY")
    budget_total = models.DecimalField(_("预算总额"), **MONEY)
    reserved = models.DecimalField(_("已预留"), default=ZERO, **MONEY)
    paid = models.DecimalField(_("已发放"), default=ZERO, **MONEY)
    next_seq = models.PositiveIntegerField(_("下一个申请序号"), default=1)
    claim_window_start = models.DateField(_("受理开始"))
    claim_window_end = models.DateField(_("受理截止"))
    purchase_window_start = models.DateField(_("购车开始"))
    purchase_window_end = models.DateField(_("购车截止"))
    min_pos_amount = models.DecimalField(_("POS 最低金额"), **MONEY)
    waitlist_enabled = models.BooleanField(_("启用候补"), default=True)
    # A cap on the waitlist; None = no cap. When the money is gone and the waitlist is full, intake stops.
    waitlist_max_length = models.PositiveIntegerField(_("候补名额上限"), null=True, blank=True)
    correction_days = models.PositiveIntegerField(_("退回补正期限（天）"), default=15)
    appeal_days = models.PositiveIntegerField(_("申诉期限（天）"), default=15)
    payout_fix_days = models.PositiveIntegerField(_("发放失败后更正期限（天）"), default=30)
    # Set once when the program closes (end of the claim window, or closed early); it takes no claims after.
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    counter_address = models.CharField(_("线下受理地点"), max_length=300, blank=True)
    source = models.JSONField(_("程序文件"), default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("补贴项目")
        verbose_name_plural = _("补贴项目")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(reserved__gte=0), name="program_reserved_nonnegative"),
            models.CheckConstraint(condition=Q(paid__gte=0), name="program_paid_nonnegative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("budget_total") - F("paid")), name="program_budget_not_overspent"
            ),
            models.CheckConstraint(
                condition=Q(claim_window_end__gte=F("claim_window_start")),
                name="program_claim_window_ordered",
            ),
            models.CheckConstraint(
                condition=Q(purchase_window_end__gte=F("purchase_window_start")),
                name="program_purchase_window_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def available(self) -> Decimal:
        return self.budget_total - self.reserved - self.paid


class Tier(models.Model):
    """`above < invoice_amount <= up_to` (up_to None = no upper bound) gives `fuel_amount` / `nev_amount`."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="tiers")
    position = models.PositiveSmallIntegerField()
    above = models.DecimalField(**MONEY)
    up_to = models.DecimalField(null=True, blank=True, **MONEY)
    fuel_amount = models.DecimalField(**MONEY)
    nev_amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["program", "position"]
        constraints = [
            models.UniqueConstraint(fields=["program", "position"], name="tier_unique_position"),
            models.CheckConstraint(
                condition=Q(up_to__isnull=True) | Q(up_to__gt=F("above")), name="tier_bounds"
            ),
            models.CheckConstraint(condition=Q(fuel_amount__gte=0, nev_amount__gte=0), name="tier_amounts"),
        ]

    def __str__(self) -> str:
        upper = f"{self.up_to}" if self.up_to is not None else "∞"
        return f"({self.above}, {upper}]"

    def amount_for(self, fuel_type: str) -> Decimal:
        return self.nev_amount if fuel_type == FuelType.NEV else self.fuel_amount


class Dealer(models.Model):
    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="dealers")
    name = models.CharField(_("名称"), max_length=200)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18)

    class Meta:
        verbose_name = _("备案经销商")
        verbose_name_plural = _("备案经销商")
        constraints = [models.UniqueConstraint(fields=["program", "credit_code"], name="dealer_unique_code")]

    def __str__(self) -> str:
        return f"{self.name} ({self.credit_code})"


class LedgerEntry(AppendOnlyModel):
    """Append-only budget journal: every change of `reserved` or `paid` on a program, with the figures after it."""

    class Kind(models.TextChoices):
        RESERVE = "reserve", _("预留")
        RELEASE = "release", _("释放")
        PAY = "pay", _("发放")
        BUDGET = "budget", _("预算调整")

    program = models.ForeignKey(Program, on_delete=models.PROTECT, related_name="ledger")
    claim = models.ForeignKey(
        "claims.Claim", on_delete=models.PROTECT, null=True, blank=True, related_name="ledger"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    amount = models.DecimalField(**MONEY)
    reserved_after = models.DecimalField(**MONEY)
    paid_after = models.DecimalField(**MONEY)
    budget_after = models.DecimalField(**MONEY)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("预算流水")
        verbose_name_plural = _("预算流水")
        ordering = ["id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gte=0), name="ledger_amount_nonnegative")]
        # The budget recomputation sums a program's entries per kind: an index-only scan, in the kinds' order.
        indexes = [models.Index(fields=["program", "kind", "amount"], name="ledger_program_kind_amount")]
