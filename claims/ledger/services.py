"""Publishing the public ledger and verifying a file against its hash chain."""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from claims.audit.services import audit_log
from claims.ledger.models import GENESIS_SHA256, LedgerLine, LedgerPublication
from claims.models import Claim, Program
from claims.money import ZERO, money_str
from claims.programs.budget import program_lock
from claims.tabular import csv_row
from claims.vocabulary import ClaimStatus

COLUMNS = (
    "claim_number",
    "applicant",
    "vin_last6",
    "fuel_type",
    "subsidy_amount",
    "status",
    "decided_on",
    "paid_on",
)
# The statuses a publication lists. A claim published `approved` is listed again once it is `paid`.
PUBLISHED_STATUSES = (ClaimStatus.APPROVED, ClaimStatus.PAID)


def chain_sha256(prev_sha256: str, content: bytes) -> str:
    """SHA-256 over the 64 ASCII characters of the previous hash followed by the file's bytes."""
    return hashlib.sha256(prev_sha256.encode("ascii") + bytes(content)).hexdigest()


def applicant_display(name: str) -> str:
    """The surname followed by one `*`."""
    name = (name or "").strip()
    return f"{name[:1]}*" if name else "*"


def _local_date(value) -> str:
    return timezone.localdate(value).isoformat() if value else ""


def ledger_csv(claims: list[Claim]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for c in claims:
        writer.writerow(
            csv_row(
                (
                    c.claim_number,
                    applicant_display(c.applicant_name),
                    c.vin[-6:],
                    c.fuel_type,
                    money_str(c.subsidy_amount),
                    c.status,
                    _local_date(c.decided_at),
                    _local_date(c.paid_at) if c.status == ClaimStatus.PAID else "",
                )
            )
        )
    return out.getvalue().encode("utf-8")


def _unpublished(program: Program):
    already = LedgerLine.objects.filter(claim=OuterRef("pk"), status=OuterRef("status"))
    return (
        Claim.objects.filter(program=program, status__in=PUBLISHED_STATUSES)
        .exclude(Exists(already))
        .order_by("seq")
    )


def ledger_publish(program_code: str, *, actor=None) -> LedgerPublication | None:
    """Publish every claim approved or paid since the last publication; None when there is nothing new.

    Under the program row lock, so two publishers never fork the chain and no claim changes status meanwhile.
    """
    program = Program.objects.filter(code=program_code).first()
    if program is None:
        return None
    with transaction.atomic():
        program = program_lock(program.pk)
        claims = list(_unpublished(program))
        if not claims:
            return None
        last = program.publications.order_by("-seq").only("seq", "sha256").first()
        prev = last.sha256 if last else GENESIS_SHA256
        content = ledger_csv(claims)
        publication = LedgerPublication.objects.create(
            program=program,
            seq=(last.seq + 1) if last else 1,
            published_at=timezone.now(),
            content=content,
            sha256=chain_sha256(prev, content),
            prev_sha256=prev,
            count=len(claims),
            total=sum((c.subsidy_amount for c in claims), ZERO),
        )
        LedgerLine.objects.bulk_create(
            LedgerLine(publication=publication, claim=c, status=c.status) for c in claims
        )
        audit_log(
            "ledger_published",
            actor=actor,
            obj=publication,
            actor_label="system",
            program=program.code,
            seq=publication.seq,
            sha256=publication.sha256,
            count=publication.count,
        )
    return publication


def ledger_publish_all() -> list[LedgerPublication]:
    """One publication per program with something new (the periodic task)."""
    made = []
    for code in Program.objects.order_by("code").values_list("code", flat=True):
        publication = ledger_publish(code)
        if publication is not None:
            made.append(publication)
    return made


@dataclass(frozen=True)
class Verification:
    ok: bool
    seq: int | None  # the publication the file is, when it matches one
    sha256: str  # the file's chained hash, computed as for the matched (or claimed) publication
    message: str
    chain_ok: bool  # the server's own chain is intact (every hash recomputes, every link holds)


def chain_intact(publications: list[LedgerPublication]) -> bool:
    prev = GENESIS_SHA256
    for p in publications:
        if p.prev_sha256 != prev or chain_sha256(prev, p.content) != p.sha256:
            return False
        prev = p.sha256
    return True


def ledger_verify(program: Program, content: bytes, seq: int | None = None) -> Verification:
    """Whether `content` is exactly one of the program's publications (the one numbered `seq`, when given)."""
    publications = list(program.publications.order_by("seq"))
    intact = chain_intact(publications)
    candidates = [p for p in publications if seq is None or p.seq == seq]
    for p in candidates:
        digest = chain_sha256(p.prev_sha256, content)
        if digest == p.sha256:
            return Verification(
                True, p.seq, digest, _("文件与第 %(s)s 期公示完全一致，哈希链校验通过") % {"s": p.seq}, intact
            )
    if seq is not None and not candidates:
        return Verification(False, None, "", _("没有第 %(s)s 期公示") % {"s": seq}, intact)
    digest = chain_sha256(candidates[0].prev_sha256, content) if len(candidates) == 1 else ""
    return Verification(
        False, seq, digest, _("文件与任何一期公示都不一致：文件已被修改，或不是本项目的公示文件"), intact
    )
