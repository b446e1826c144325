"""The staff claim list by keyset cursor: every claim exactly once, filters kept, bad cursors refused in Chinese."""

from __future__ import annotations

import base64
import json

import pytest
from django.core import signing

from claims.review.cursor import SALT
from conftest import token_client
from tests.factories import make_credit_code, make_dealer_staff, make_program, submit_claim

pytestmark = pytest.mark.django_db

STAFF = "/api/v1/staff/claims/"


@pytest.fixture
def claims():
    """Seven claims over two programs, submitted interleaved, so arrival order is not submission order."""
    first, second = make_program("cursor-a"), make_program("cursor-b")
    made = []
    for i in range(7):
        made.append(
            submit_claim(
                first if i % 2 else second,
                fuel_type="fuel" if i % 3 == 0 else "nev",
                dealer_credit_code=make_credit_code(1 + i % 2),
            )
        )
    return sorted(made, key=lambda c: (c.program_id, c.seq))


def _walk(api, params: dict) -> tuple[list[str], int]:
    """Every claim number the cursor walk returns, and how many requests it took."""
    body = api.get(STAFF, params).json()
    numbers = [r["claim_number"] for r in body["results"]]
    requests = 1
    while body["next_cursor"]:
        cursor = body["next_cursor"]
        response = api.get(STAFF, {**params, "cursor": cursor})
        assert response.status_code == 200, response.json()
        body = response.json()
        assert body["page"] is None and body["previous"] is None
        assert "page=" not in (body["next"] or "") and (body["next"] is None) == (body["next_cursor"] is None)
        numbers += [r["claim_number"] for r in body["results"]]
        requests += 1
        assert requests < 50
    assert body["next"] is None
    return numbers, requests


def test_cursor_walk_returns_every_claim_once_in_arrival_order(claims, reviewer):
    api = token_client(reviewer)
    numbers, requests = _walk(api, {"page_size": 2})
    assert numbers == [c.claim_number for c in claims]
    assert requests == 4
    # The `next` link of a cursor page is the same walk.
    body = api.get(STAFF, {"page_size": 3}).json()
    following = api.get(body["next"].replace("page=2", f"cursor={body['next_cursor']}")).json()
    assert [r["claim_number"] for r in following["results"]] == [c.claim_number for c in claims[3:6]]
    again = api.get(following["next"]).json()
    assert [r["claim_number"] for r in again["results"]] == [claims[6].claim_number]
    assert again["next_cursor"] is None and again["next"] is None


def test_cursor_walk_keeps_the_filters(claims, reviewer):
    api = token_client(reviewer)
    for params, expected in (
        ({"fuel_type": "fuel"}, [c for c in claims if c.fuel_type == "fuel"]),
        ({"dealer": make_credit_code(2)}, [c for c in claims if c.dealer_credit_code == make_credit_code(2)]),
        ({"program": "cursor-a"}, [c for c in claims if c.program.code == "cursor-a"]),
        ({"status": "waitlisted"}, []),
    ):
        numbers, _ = _walk(api, {**params, "page_size": 1})
        assert numbers == [c.claim_number for c in expected], params
    # A cursor from an unfiltered walk continues a filtered one after the same place.
    cursor = api.get(STAFF, {"page_size": 2}).json()["next_cursor"]
    rows = api.get(STAFF, {"cursor": cursor, "fuel_type": "nev"}).json()["results"]
    assert [r["claim_number"] for r in rows] == [c.claim_number for c in claims[2:] if c.fuel_type == "nev"]


def test_page_numbers_still_work_and_offer_a_cursor(claims, reviewer):
    api = token_client(reviewer)
    body = api.get(STAFF, {"page_size": 3, "page": 2}).json()
    assert set(body) == {"page", "page_size", "next", "previous", "next_cursor", "results"}
    assert body["page"] == 2 and "page=3" in body["next"] and "page=1" in body["previous"]
    assert [r["claim_number"] for r in body["results"]] == [c.claim_number for c in claims[3:6]]
    rest = api.get(STAFF, {"page_size": 3, "cursor": body["next_cursor"], "page": "1"}).json()
    assert [r["claim_number"] for r in rest["results"]] == [claims[6].claim_number]  # the cursor wins
    assert api.get(STAFF, {"page_size": 3, "page": 3}).json()["next_cursor"] is None
    assert api.get(STAFF, {"page_size": 3, "cursor": ""}).json()["page"] == 1  # empty: no cursor


def test_a_dealer_walks_only_its_own_claims(claims):
    dealer = make_dealer_staff()
    numbers, _requests = _walk(token_client(dealer), {"page_size": 1})
    assert numbers == [c.claim_number for c in claims if c.dealer_credit_code == make_credit_code(1)]


def _forged(payload) -> str:
    return signing.Signer(salt=SALT).sign_object(payload)


@pytest.mark.parametrize(
    "cursor",
    [
        "garbage",
        "WzEsIDJd",  # base64 of [1, 2], unsigned
        "a" * 5000,
        "\u6e38\u6807:\u00e9",
        "x:y:z",
        "%00",
        _forged([1]),
        _forged([1, 2, 3]),
        _forged(["1", 2]),
        _forged([1, -2]),
        _forged([True, 2]),
        _forged([1, 2**40]),
        _forged({"p": 1, "s": 2}),
        _forged(None),
        signing.Signer(salt="another.salt").sign_object([1, 2]),
    ],
)
def test_bad_cursor_is_400_invalid_cursor_in_chinese(reviewer, cursor):  # refused whatever the data
    r = token_client(reviewer).get(STAFF, {"cursor": cursor})
    assert r.status_code == 400
    assert r.json()["code"] == "invalid_cursor" and "游标" in r.json()["message"]


def test_garbage_around_the_cursor_never_gets_a_5xx(claims, reviewer):
    api = token_client(reviewer)
    cursor = api.get(STAFF, {"page_size": 2}).json()["next_cursor"]
    for query in (
        "cursor=%00",  # NUL characters are refused before any view: invalid_input
        f"cursor={cursor}%00",
        "cursor=%ff%fe",
        f"cursor={cursor}&cursor=nonsense",
        f"cursor={cursor}&page_size=-1&page=abc",
        f"cursor={cursor}&tier=abc&status=,,,",
    ):
        r = api.get(f"{STAFF}?{query}")
        assert r.status_code in (200, 400), query
        if r.status_code == 400:
            assert r.json()["code"] in ("invalid_cursor", "invalid_input"), query


def test_tampered_cursor_is_refused(claims, reviewer):
    api = token_client(reviewer)
    cursor = api.get(STAFF, {"page_size": 2}).json()["next_cursor"]
    value, signature = cursor.rsplit(":", 1)
    key = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    altered = base64.urlsafe_b64encode(json.dumps([key[0], key[1] + 1]).encode()).decode().rstrip("=")
    for bad in (f"{altered}:{signature}", f"{value}:{signature[:-1]}A", cursor[1:]):
        r = api.get(STAFF, {"cursor": bad})
        assert r.status_code == 400 and r.json()["code"] == "invalid_cursor"


def test_cursor_walk_query_count_does_not_grow(claims, reviewer, django_assert_max_num_queries):
    api = token_client(reviewer)
    cursor = api.get(STAFF, {"page_size": 2}).json()["next_cursor"]
    with django_assert_max_num_queries(8):
        r = api.get(STAFF, {"page_size": 2, "cursor": cursor})
    assert len(r.json()["results"]) == 2
