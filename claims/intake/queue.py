"""A waitlisted claim's place in the queue: shown to the applicant, to staff and in the applicant's SMS."""

from __future__ import annotations

from claims.intake.models import Claim, ClaimStatus


def claim_queue_position(claim: Claim) -> int | None:
    """1 = next to be promoted; None unless waitlisted."""
    if claim.status != ClaimStatus.WAITLISTED:
        return None
    ahead = Claim.objects.filter(
        program_id=claim.program_id, status=ClaimStatus.WAITLISTED, seq__lt=claim.seq
    ).count()
    return ahead + 1
