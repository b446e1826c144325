from .audit import AuditLog
from .claims import (
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
from .payouts import Payout, PayoutBatch, PayoutResultImport, PayoutStatus
from .programs import Dealer, LedgerEntry, Program, Tier

__all__ = [
    "ACTIVE_STATUSES",
    "AuditLog",
    "Claim",
    "ClaimCheck",
    "ClaimDocument",
    "ClaimEvent",
    "ClaimStatus",
    "Dealer",
    "DocumentKind",
    "FuelType",
    "IdempotencyRecord",
    "LedgerEntry",
    "Payout",
    "PayoutBatch",
    "PayoutResultImport",
    "PayoutStatus",
    "Program",
    "Tier",
]
