"""Payouts (issue 7). The approval service calls `payout_enqueue_for_claim` after commit."""

from __future__ import annotations


def payout_enqueue_for_claim(claim_id: int) -> None:
    """Queue the creation of the claim's payout instruction. Filled in by the payouts work (issue 7)."""
