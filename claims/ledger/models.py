"""The public ledger (公示): immutable publications of approved and paid claims, each chained to the previous one."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from claims.base import AppendOnlyModel
from claims.programs.models import MONEY
from claims.vocabulary import ClaimStatus

GENESIS_SHA256 = "0" * 64


class LedgerPublication(AppendOnlyModel):
    """One publication: the exact bytes of its CSV file and their place in the program's hash chain.

    `sha256` = SHA-256(`prev_sha256` as 64 ASCII characters + `content`); `prev_sha256` is the previous
    publication's `sha256` (64 zeros for the first). Unique keys on (program, seq) and (program, prev_sha256) make a
    fork impossible even if two publishers ran at once.
    """

    program = models.ForeignKey("claims.Program", on_delete=models.PROTECT, related_name="publications")
    seq = models.PositiveIntegerField(_("期号"))
    published_at = models.DateTimeField(_("公示时间"))
    content = models.BinaryField(_("公示文件"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    prev_sha256 = models.CharField(_("上一期 SHA-256"), max_length=64)
    count = models.PositiveIntegerField(_("条数"))
    total = models.DecimalField(_("补贴合计"), **MONEY)

    class Meta:
        verbose_name = _("公示")
        verbose_name_plural = _("公示")
        ordering = ["program_id", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["program", "seq"], name="publication_unique_seq"),
            models.UniqueConstraint(fields=["program", "prev_sha256"], name="publication_unique_prev"),
            models.CheckConstraint(condition=Q(seq__gte=1), name="publication_seq_positive"),
            models.CheckConstraint(condition=Q(count__gte=1), name="publication_not_empty"),
        ]

    def __str__(self) -> str:
        return f"{self.program_id}#{self.seq}"


class LedgerLine(AppendOnlyModel):
    """A claim in a publication, with the status it was published in: what "since the last publication" means.

    A claim is published at most once per status: once `approved`, and again when it is `paid`.
    """

    publication = models.ForeignKey(LedgerPublication, on_delete=models.PROTECT, related_name="lines")
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="ledger_lines")
    status = models.CharField(max_length=16, choices=ClaimStatus.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["claim", "status"], name="ledger_line_once_per_status")
        ]

    def __str__(self) -> str:
        return f"{self.publication_id}: {self.claim_id} {self.status}"
