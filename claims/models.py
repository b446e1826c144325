"""Every model of the claims app, imported here so Django finds them; each lives in its domain package."""

from claims.appeals.models import Appeal, AppealDecision
from claims.audit.models import AuditLog
from claims.checks.models import DocumentReading, ReadingStatus
from claims.dealers.models import DealerAccount, DealerSale, DealerSalesImport
from claims.fraud.models import DocumentFingerprint, FingerprintBand
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
    StagedUpload,
)
from claims.ledger.models import LedgerLine, LedgerPublication
from claims.notifications.models import Notification, NotificationStatus
from claims.payouts.models import (
    Payout,
    PayoutBankFile,
    PayoutBatch,
    PayoutBatchEvent,
    PayoutEvent,
    PayoutResultImport,
    PayoutStatus,
)
from claims.programs.models import Dealer, LedgerEntry, Program, Tier

__all__ = [
    "ACTIVE_STATUSES",
    "Appeal",
    "AppealDecision",
    "AuditLog",
    "Claim",
    "ClaimCheck",
    "ClaimDocument",
    "ClaimEvent",
    "ClaimStatus",
    "Dealer",
    "DealerAccount",
    "DealerSale",
    "DealerSalesImport",
    "DocumentFingerprint",
    "FingerprintBand",
    "LedgerLine",
    "LedgerPublication",
    "DocumentReading",
    "DocumentKind",
    "FuelType",
    "IdempotencyRecord",
    "LedgerEntry",
    "Notification",
    "NotificationStatus",
    "Payout",
    "PayoutBankFile",
    "PayoutBatch",
    "PayoutBatchEvent",
    "PayoutEvent",
    "PayoutResultImport",
    "PayoutStatus",
    "Program",
    "StagedUpload",
    "ReadingStatus",
    "Tier",
]
