"""A waitlisted claim's place in the queue: shown to the applicant, to staff and in the applicant's SMS."""

from __future__ import annotations

from claims.intake.models import Claim, ClaimStatus


def claim_queue_position(claim: Claim) -> int | None:
    """1 = next to be promoted; None unless waitlisted.

    Counted once per claim instance and status: a submission's SMS and its answer, written in one transaction,
    tell the same place with one query. A later read of the claim counts afresh.
    """
    if claim.status != ClaimStatus.WAITLISTED:
        return None
    known = claim.__dict__.get("_queue_position")
    if known is not None and known[0] == (claim.status, claim.seq):
        return known[1]
    ahead = Claim.objects.filter(
        program_id=claim.program_id, status=ClaimStatus.WAITLISTED, seq__lt=claim.seq
    ).count()
    claim.__dict__["_queue_position"] = ((claim.status, claim.seq), ahead + 1)
    return ahead + 1
