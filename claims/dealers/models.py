"""Dealers' own sales records, and the dealer accounts that upload them."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from claims.programs.models import MONEY


class DealerAccount(models.Model):
    """Binds a `dealer` staff account to the one seller (credit code) it speaks for."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="dealer_account"
    )
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, db_index=True)

    class Meta:
        verbose_name = _("经销商账号")
        verbose_name_plural = _("经销商账号")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.credit_code}"


class DealerSalesImport(models.Model):
    """One accepted upload of a sales file (who, which file, what it added)."""

    sha256 = models.CharField(max_length=64)
    file_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)
    rows = models.PositiveIntegerField()
    imported = models.PositiveIntegerField()
    duplicates = models.PositiveIntegerField()

    class Meta:
        verbose_name = _("销售记录导入")
        verbose_name_plural = _("销售记录导入")

    def __str__(self) -> str:
        return f"{self.pk}: {self.imported} + {self.duplicates}"


class DealerSale(models.Model):
    """One sale as the dealer reports it. One row per invoice of a dealer: a second upload of it is a duplicate."""

    credit_code = models.CharField(_("销售方统一社会信用代码"), max_length=18)
    invoice_number = models.CharField(_("发票号码"), max_length=20)
    invoice_code = models.CharField(_("发票代码"), max_length=12, blank=True)
    invoice_date = models.DateField(_("开票日期"))
    vin = models.CharField(_("车架号（VIN）"), max_length=17, db_index=True)
    invoice_amount = models.DecimalField(_("发票价税合计"), **MONEY)
    source = models.ForeignKey(DealerSalesImport, on_delete=models.PROTECT, related_name="sales")

    class Meta:
        verbose_name = _("经销商销售记录")
        verbose_name_plural = _("经销商销售记录")
        constraints = [
            models.UniqueConstraint(
                fields=["credit_code", "invoice_code", "invoice_number"], name="dealer_sale_unique_invoice"
            )
        ]
        # "Does this dealer have records for that month?" is a range scan on this index.
        indexes = [models.Index(fields=["credit_code", "invoice_date"], name="dealer_sale_code_date")]

    def __str__(self) -> str:
        return f"{self.credit_code}: {self.invoice_number}"
