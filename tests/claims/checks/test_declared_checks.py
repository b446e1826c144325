"""The checks that need only the declared values and the stored files (claims.checks.services)."""

from __future__ import annotations

import pytest

from claims.checks.services import claim_refresh_checks, declared_checks
from claims.models import ClaimCheck, Dealer
from claims.vocabulary import CHECK_CODES
from tests.factories import document_files, make_credit_code, make_program, money, submit_claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def program():
    return make_program("checks-car")


def _results(claim) -> dict[str, str]:
    return {c["code"]: c["result"] for c in declared_checks(claim)}


def test_a_valid_claim_passes_every_declared_check(program):
    results = _results(submit_claim(program))
    assert results == {
        "plate_matches_fuel_type": "pass",
        "dealer_eligible": "pass",
        "pos_amount_over_minimum": "pass",
        "bank_account_checksum": "pass",
        "duplicate_document": "pass",
    }


def test_dealer_not_on_the_program_list_fails(program):
    claim = submit_claim(program)
    Dealer.objects.create(program=program, name="汾阳某汽车销售有限公司", credit_code=make_credit_code(1))
    assert _results(claim)["dealer_eligible"] == "pass"
    claim.dealer_credit_code = make_credit_code(987)  # e.g. the dealer list was changed after submission
    assert _results(claim)["dealer_eligible"] == "fail"
    program.dealers.all().delete()  # no list at all: every dealer is eligible
    assert _results(claim)["dealer_eligible"] == "pass"


def test_pos_amount_must_be_above_the_minimum(program):
    claim = submit_claim(program)
    claim.pos_amount = program.min_pos_amount
    assert _results(claim)["pos_amount_over_minimum"] == "fail"
    claim.pos_amount = program.min_pos_amount + money("0.01")
    assert _results(claim)["pos_amount_over_minimum"] == "pass"


def test_a_document_reused_from_another_claim_fails_on_both(program):
    first = submit_claim(program, files=document_files("same"))
    second = submit_claim(program, files=document_files("same"))
    assert _results(second)["duplicate_document"] == "fail"
    assert _results(first)["duplicate_document"] == "fail"
    detail = next(c["detail"] for c in declared_checks(second) if c["code"] == "duplicate_document")
    assert first.claim_number in detail


def test_refresh_stores_one_row_per_check_code(program):
    claim = submit_claim(program)
    claim_refresh_checks(claim.pk)
    stored = dict(ClaimCheck.objects.filter(claim=claim).values_list("code", "result"))
    assert sorted(stored) == sorted(CHECK_CODES)
    assert stored["vin_matches_invoice"] == "unknown"  # no OCR reading yet
