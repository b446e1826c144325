"""Perceptual fingerprints of claim images, indexed for near-duplicate lookups."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class DocumentFingerprint(models.Model):
    """The 64-bit perceptual hash (pHash, hex) of one stored image, computed once per document."""

    document = models.OneToOneField(
        "claims.ClaimDocument", on_delete=models.CASCADE, related_name="fingerprint"
    )
    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="+")
    phash = models.CharField(max_length=16)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("疑似关联申请")
        verbose_name_plural = _("疑似关联申请")

    def __str__(self) -> str:
        return f"{self.document_id}: {self.phash}"


class FingerprintBand(models.Model):
    """One byte of a fingerprint (8 per fingerprint), indexed so that near-duplicate candidates are found by
    lookup rather than by comparing every stored hash (see `claims.fraud.services.near_duplicates`)."""

    fingerprint = models.ForeignKey(DocumentFingerprint, on_delete=models.CASCADE, related_name="bands")
    band = models.PositiveSmallIntegerField()
    value = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["band", "value"], name="fingerprint_band_value")]

    def __str__(self) -> str:
        return f"{self.fingerprint_id}[{self.band}] = {self.value}"
