"""Every model of the claims app, imported here so Django finds them; each lives in its domain package."""

from claims.audit.models import AuditLog
from claims.checks.models import DocumentReading, ReadingStatus
from claims.intake.models import (
    ACTIVE_STATUSES,
    Claim,
    ClaimCheck,
    ClaimDocument,
    ClaimEvent,
    ClaimStatus,
    DocumentKind,
    FuelType,
    IdempotencyRecord,
)
from claims.payouts.models import (
    Payout,
    PayoutBatch,
    PayoutBatchEvent,
    PayoutEvent,
    PayoutResultImport,
    PayoutStatus,
)
from claims.programs.models import Dealer, LedgerEntry, Program, Tier

__all__ = [
    "ACTIVE_STATUSES",
    "AuditLog",
    "Claim",
    "ClaimCheck",
    "ClaimDocument",
    "ClaimEvent",
    "ClaimStatus",
    "Dealer",
    "DocumentReading",
    "DocumentKind",
    "FuelType",
    "IdempotencyRecord",
    "LedgerEntry",
    "Payout",
    "PayoutBatch",
    "PayoutBatchEvent",
    "PayoutEvent",
    "PayoutResultImport",
    "PayoutStatus",
    "Program",
    "ReadingStatus",
    "Tier",
]
