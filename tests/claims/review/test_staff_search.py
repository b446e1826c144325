"""Searches by a full ID / phone / bank card number go through POST; lists keep their query counts; every admin
page is reachable, read from the nearer end."""

from __future__ import annotations

import logging

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from claims.accounts.admin import LargeTablePaginator, estimated_count
from claims.models import AuditLog, Claim
from claims.review.search import GET_REFUSED_CODE
from conftest import token_client
from tests.factories import submit_claim

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/staff/claims/search/"


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_post_search_by_full_numbers_finds_the_claim_and_audits_it_masked(program, auditor, caplog):
    a, b = submit_claim(program), submit_claim(program)
    client = _client(auditor)
    caplog.set_level(logging.DEBUG)
    for number in (b.id_number, b.bank_account):
        response = client.post(reverse("admin:claims_claim_search"), {"number": number})
        html = response.content.decode()
        assert response.status_code == 200 and b.claim_number in html and a.claim_number not in html
        assert number not in html
    api = token_client(auditor).post(SEARCH, {"number": b.id_number}, format="json")
    assert api.status_code == 200 and [r["claim_number"] for r in api.json()["results"]] == [b.claim_number]
    assert b.id_number not in api.content.decode()
    rows = list(AuditLog.objects.filter(action="claim_full_number_search").order_by("id"))
    assert len(rows) == 3 and all(r.detail["count"] == 1 for r in rows)
    for row in rows:
        assert b.id_number not in str(row.detail) and b.bank_account not in str(row.detail)
        assert "*" in row.detail["number"]
    assert b.id_number not in caplog.text and b.bank_account not in caplog.text


def test_post_search_not_found_and_bad_input(program, auditor):
    submit_claim(program)
    client = _client(auditor)
    html = client.post(
        reverse("admin:claims_claim_search"), {"number": "110101199003071234"}
    ).content.decode()
    assert 'id="not-found"' in html
    api = token_client(auditor)
    assert api.post(SEARCH, {"number": "110101199003071234"}, format="json").json()["results"] == []
    bad = api.post(SEARCH, {"number": "abc"}, format="json")
    assert bad.status_code == 400 and bad.json()["code"] == "invalid_number"
    assert api.get(SEARCH).status_code == 405


def test_get_search_with_a_full_number_is_refused_in_chinese(program, reviewer):
    claim = submit_claim(program)
    api = token_client(reviewer)
    for number in (claim.id_number, claim.phone, claim.bank_account):
        r = api.get("/api/v1/staff/claims/", {"q": number})
        assert r.status_code == 400 and r.json()["code"] == GET_REFUSED_CODE
        assert "POST" in r.json()["message"] and number not in r.content.decode()
    assert not AuditLog.objects.filter(action="claim_full_number_search").exists()
    # Claim numbers, VINs and plates stay GET searches.
    for term in (claim.claim_number, claim.vin, claim.plate_number):
        rows = api.get("/api/v1/staff/claims/", {"q": term}).json()["results"]
        assert [r["claim_number"] for r in rows] == [claim.claim_number]
    html = _client(reviewer).get(reverse("admin:claims_claim_changelist"), {"q": claim.claim_number})
    assert claim.claim_number in html.content.decode()


@pytest.mark.parametrize(
    "url",
    ["admin:claims_claim_changelist", "admin:claims_payout_changelist", "admin:claims_auditlog_changelist"],
)
def test_admin_lists_keep_their_query_count(
    program, reviewer, finance, auditor, url, django_assert_max_num_queries
):
    user = {"admin:claims_claim_changelist": reviewer, "admin:claims_auditlog_changelist": auditor}.get(
        url, finance
    )
    client = _client(user)
    submit_claim(program)
    client.get(reverse(url))
    with django_assert_max_num_queries(15) as few:
        client.get(reverse(url))
    for _ in range(6):
        submit_claim(program)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(reverse(url))


def test_staff_api_lists_keep_their_query_count(program, reviewer, django_assert_max_num_queries):
    api = token_client(reviewer)
    submit_claim(program)
    api.get("/api/v1/staff/claims/")
    with django_assert_max_num_queries(15) as few:
        api.get("/api/v1/staff/claims/")
    for _ in range(6):
        submit_claim(program)
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert len(api.get("/api/v1/staff/claims/").json()["results"]) == 7


def _page_numbers(content: str, claims) -> list[str]:
    return [c.claim_number for c in claims if c.claim_number in content]


def test_every_admin_page_shows_its_rows_from_either_end(program, reviewer, monkeypatch):
    """Pages in the second half are read backwards from the end; each page holds exactly its own rows."""
    claims = [submit_claim(program) for _ in range(7)]
    client = _client(reviewer)
    url = reverse("admin:claims_claim_changelist")
    monkeypatch.setattr("claims.review.admin.ClaimAdmin.list_per_page", 2)
    shown = [_page_numbers(client.get(url, {"p": p}).content.decode(), claims) for p in (1, 2, 3, 4)]
    ordered = sorted(claims, key=lambda c: (c.program_id, c.seq))
    assert [n for page in shown for n in page] == [c.claim_number for c in ordered]
    assert [len(page) for page in shown] == [2, 2, 2, 1]
    assert client.get(url, {"p": 5}).status_code == 302  # past the end: the admin's own "invalid page"


def test_paginator_reads_the_last_pages_backwards_and_with_orphans(program):
    claims = [submit_claim(program) for _ in range(5)]
    rows = Claim.objects.order_by("seq")
    with CaptureQueriesContext(connection) as queries:
        last = LargeTablePaginator(rows, 2).page(3)
    assert [c.pk for c in last] == [claims[4].pk]
    assert "DESC" in queries.captured_queries[-1]["sql"]
    assert [c.pk for c in LargeTablePaginator(rows, 2, orphans=1).page(2)] == [c.pk for c in claims[2:]]
    assert [c.pk for c in LargeTablePaginator(rows, 2).page(1)] == [c.pk for c in claims[:2]]


def test_admin_pages_past_the_estimate_are_reachable(program, reviewer, monkeypatch):
    """Past EXACT_COUNT_UP_TO the planner's estimate numbers the pages, and pages past it still open."""
    claims = [submit_claim(program) for _ in range(7)]
    monkeypatch.setattr(LargeTablePaginator, "EXACT_COUNT_UP_TO", 2)
    monkeypatch.setattr("claims.accounts.admin.estimated_count", lambda queryset: 3)  # below the real 7
    client = _client(reviewer)
    url = reverse("admin:claims_claim_changelist")
    monkeypatch.setattr("claims.review.admin.ClaimAdmin.list_per_page", 2)
    last = client.get(url, {"p": 4})
    assert last.status_code == 200 and claims[-1].claim_number in last.content.decode()
    assert client.get(url, {"p": 9}).status_code == 302


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the planner's estimate is PostgreSQL's")
def test_the_planner_estimate_reads_no_rows(program):
    submit_claim(program)
    with CaptureQueriesContext(connection) as queries:
        estimate = estimated_count(Claim.objects.filter(program=program))
    assert isinstance(estimate, int) and estimate >= 0
    assert [q["sql"].split()[0] for q in queries.captured_queries] == ["EXPLAIN"]
    assert estimated_count(Claim.objects.filter(pk__in=[])) == 0  # empty by construction: no query at all
