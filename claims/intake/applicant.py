"""What an applicant can do with their own claim once it exists: find it and withdraw it."""

from __future__ import annotations

import hmac

from django.db import transaction
from django.utils.translation import gettext as _

from claims.crypto import pii_hashes
from claims.errors import NotFound
from claims.intake.models import ClaimStatus
from claims.intake.transitions import claim_transition
from claims.models import Claim
from claims.programs.budget import program_lock, waitlist_promote


def claim_not_found() -> NotFound:
    # One answer for an unknown number and a wrong ID number, so the call cannot be used to probe either.
    return NotFound("claim_not_found", _("未找到与申请编号和身份证号相符的申请"))


def claim_for_applicant(claim_number: str, id_number: str, *, lock: bool = False) -> Claim:
    """The claim if `id_number` is its applicant's; otherwise NotFound (the same for both failures)."""
    qs = Claim.objects.select_related("program")
    if lock:
        qs = qs.select_for_update()
    claim = qs.filter(claim_number=(claim_number or "").strip().upper()).first()
    given = pii_hashes(id_number or "")
    if claim is None or not any(hmac.compare_digest(claim.id_number_hash, h) for h in given):
        raise claim_not_found()
    return claim


def phone_last4_matches(claim: Claim, phone_last4: str) -> bool:
    given = (phone_last4 or "").strip()
    if len(given) != 4 or not given.isascii() or not given.isdigit():
        return False
    return hmac.compare_digest((claim.phone or "")[-4:], given)


def claim_withdraw(claim_number: str, id_number: str, phone_last4: str) -> Claim:
    """Withdraw on the applicant's request: release the money and let the waitlist move up.

    A withdrawal cannot be undone and the ID number is printed on the invoice the dealer keeps, so it takes one
    more proof: the last four digits of the phone number given in the claim. A wrong value gets the same answer
    as a wrong ID number.
    """
    claim = claim_for_applicant(claim_number, id_number)
    if not phone_last4_matches(claim, phone_last4):
        raise claim_not_found()
    with transaction.atomic():
        program = program_lock(claim.program_id)
        claim = claim_for_applicant(claim_number, id_number, lock=True)
        claim_transition(
            claim,
            ClaimStatus.WITHDRAWN,
            program=program,
            actor_label="applicant",
            reason_code="withdrawn_by_applicant",
            reason=_("申请人撤回申请"),
        )
        waitlist_promote(program)
    return claim
