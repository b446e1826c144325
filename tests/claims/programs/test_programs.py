import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from claims.models import Claim, Dealer, LedgerEntry, Program, Tier
from claims.programs.services import ProgramFileError, program_load, program_parse, subsidy_quote
from tests.factories import make_credit_code, program_document, submit_claim

FENYANG = Path(__file__).resolve().parents[3] / "programs" / "fenyang-2023-car.json"


def write(tmp_path, data) -> str:
    path = tmp_path / "program.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


@pytest.mark.django_db
def test_fenyang_file_loads_exactly_as_the_rules_say(client):
    call_command("load_program", str(FENYANG))
    body = client.get("/api/v1/programs/fenyang-2023-car/").json()
    assert body["budget"] == {
        "total": "800000.00",
        "reserved": "0.00",
        "paid": "0.00",
        "available": "800000.00",
    }
    assert body["claim_window"] == {"start": "2023-04-28", "end": "2024-02-29"}
    assert body["purchase_window"] == {"start": "2023-04-28", "end": "2024-02-29"}
    assert body["tiers"] == [
        {"above": "20000.00", "up_to": "50000.00", "amounts": {"fuel": "2500.00", "nev": "3000.00"}},
        {"above": "50000.00", "up_to": "100000.00", "amounts": {"fuel": "3500.00", "nev": "5000.00"}},
        {"above": "100000.00", "up_to": "200000.00", "amounts": {"fuel": "5000.00", "nev": "6000.00"}},
        {"above": "200000.00", "up_to": None, "amounts": {"fuel": "6000.00", "nev": "7000.00"}},
    ]
    assert body["status"] == "closed"  # the 2023 window has passed
    assert body["waitlist_length"] == 0
    assert [p["code"] for p in client.get("/api/v1/programs/").json()] == ["fenyang-2023-car"]


BOUNDARIES = [
    ("0.01", None, None),
    ("20000.00", None, None),
    ("20000.01", "2500.00", "3000.00"),
    ("50000.00", "2500.00", "3000.00"),
    ("50000.01", "3500.00", "5000.00"),
    ("100000.00", "3500.00", "5000.00"),
    ("100000.01", "5000.00", "6000.00"),
    ("200000.00", "5000.00", "6000.00"),
    ("200000.01", "6000.00", "7000.00"),
    ("9999999.99", "6000.00", "7000.00"),
]


@pytest.mark.django_db
@pytest.mark.parametrize("amount,fuel,nev", BOUNDARIES)
def test_subsidy_rule_at_every_boundary(amount, fuel, nev, client):
    call_command("load_program", str(FENYANG))
    tiers = list(Tier.objects.filter(program__code="fenyang-2023-car"))
    for fuel_type, expected in (("fuel", fuel), ("nev", nev)):
        quote = subsidy_quote(tiers, Decimal(amount), fuel_type)
        r = client.get(
            f"/api/v1/programs/fenyang-2023-car/quote?invoice_amount={amount}&fuel_type={fuel_type}"
        )
        assert r.status_code == 200
        if expected is None:
            assert not quote.eligible and quote.code == "below_minimum_amount"
            assert r.json()["eligible"] is False and r.json()["code"] == "below_minimum_amount"
        else:
            assert quote.amount == Decimal(expected)
            assert r.json()["eligible"] is True and r.json()["subsidy_amount"] == expected


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query,code",
    [
        ("invoice_amount=abc&fuel_type=nev", "invalid_amount"),
        ("invoice_amount=1.005&fuel_type=nev", "invalid_amount"),
        ("invoice_amount=-5&fuel_type=nev", "invalid_amount"),
        ("fuel_type=nev", "invalid_amount"),
        ("invoice_amount=158000&fuel_type=diesel", "invalid_fuel_type"),
        ("invoice_amount=158000", "invalid_fuel_type"),
    ],
)
def test_bad_quote_is_400_with_a_code(query, code, client):
    call_command("load_program", str(FENYANG))
    r = client.get(f"/api/v1/programs/fenyang-2023-car/quote?{query}")
    assert r.status_code == 400
    assert r.json()["code"] == code and r.json()["message"]


def test_unknown_program_is_404(client, db):
    r = client.get("/api/v1/programs/nope/")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


def mutate(path, value):
    data = json.loads(FENYANG.read_text())
    target = data
    for key in path[:-1]:
        target = target[key]
    if value is KeyError:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


BAD_FILES = [
    ("malformed", "{not json", "(file)"),
    ("not an object", "[1, 2]", "(file)"),
    ("missing field", mutate(["budget_total"], KeyError), "budget_total"),
    ("missing tiers", mutate(["tiers"], KeyError), "tiers"),
    ("non-decimal amount", mutate(["budget_total"], "lots"), "budget_total"),
    ("float amount", mutate(["budget_total"], 800000.5), "budget_total"),
    ("three decimals", mutate(["min_pos_amount"], "20000.001"), "min_pos_amount"),
    ("negative amount", mutate(["budget_total"], "-1.00"), "budget_total"),
    ("negative tier amount", mutate(["tiers", 0, "amounts", "fuel"], "-2500.00"), "tiers[0].amounts.fuel"),
    ("overlapping tiers", mutate(["tiers", 1, "above"], "40000.00"), "tiers[1].above"),
    ("gapped tiers", mutate(["tiers", 1, "above"], "60000.00"), "tiers[1].above"),
    ("up_to not above above", mutate(["tiers", 0, "up_to"], "20000.00"), "tiers[0].up_to"),
    ("two open tiers", mutate(["tiers", 2, "up_to"], None), "tiers[3].up_to"),
    (
        "unknown fuel type",
        mutate(["tiers", 0, "amounts"], {"fuel": "1.00", "nev": "1.00", "diesel": "1.00"}),
        "diesel",
    ),
    ("missing fuel type", mutate(["tiers", 0, "amounts"], {"fuel": "1.00"}), "tiers[0].amounts.nev"),
    ("window end before start", mutate(["claim_window", "end"], "2023-01-01"), "claim_window.end"),
    ("bad date", mutate(["purchase_window", "start"], "2023-02-30"), "purchase_window.start"),
    (
        "bad dealer code",
        mutate(["dealers"], [{"name": "某车行", "credit_code": "91141182MA0XXXXXXX"}]),
        "dealers[0].credit_code",
    ),
]


@pytest.mark.django_db
@pytest.mark.parametrize("label,data,field", BAD_FILES, ids=[b[0] for b in BAD_FILES])
def test_bad_program_file_is_refused_and_writes_nothing(label, data, field, tmp_path):
    path = write(tmp_path, data)
    with pytest.raises(CommandError) as info:
        call_command("load_program", path)
    assert field in str(info.value)
    assert not Program.objects.exists() and not Tier.objects.exists() and not LedgerEntry.objects.exists()


def test_load_program_exit_status_is_1(tmp_path):
    import subprocess
    import sys

    path = write(tmp_path, mutate(["budget_total"], "-1"))
    r = subprocess.run([sys.executable, "manage.py", "load_program", path], capture_output=True, text=True)
    assert r.returncode == 1
    assert "budget_total" in r.stderr


@pytest.mark.django_db
def test_update_rules(program):
    doc = program_document()
    # Before any claim, tiers and windows may change.
    changed = copy.deepcopy(doc)
    changed["tiers"][0]["amounts"]["fuel"] = "2600.00"
    program_load(program_parse(changed))
    assert Tier.objects.get(program=program, position=0).fuel_amount == Decimal("2600.00")
    claim = submit_claim(program)
    assert claim.status == "under_review"
    # Once a claim exists, tiers and windows are frozen...
    frozen = copy.deepcopy(changed)
    frozen["tiers"][0]["amounts"]["fuel"] = "2700.00"
    with pytest.raises(ProgramFileError) as info:
        program_load(program_parse(frozen))
    assert info.value.field == "tiers"
    # ...the budget can still be raised, never below reserved + paid.
    low = copy.deepcopy(changed)
    low["budget_total"] = "5000.00"
    with pytest.raises(ProgramFileError) as info:
        program_load(program_parse(low))
    assert info.value.field == "budget_total"
    raised = copy.deepcopy(changed)
    raised["budget_total"] = "900000.00"
    raised["dealers"] = [{"name": "汾阳市某汽车销售有限公司", "credit_code": make_credit_code(1)}]
    program_load(program_parse(raised))
    program.refresh_from_db()
    assert program.budget_total == Decimal("900000.00") and program.reserved == Decimal("6000.00")
    assert Dealer.objects.filter(program=program).count() == 1
    assert Claim.objects.count() == 1
    call_command("check_budget", program.code)


@pytest.mark.django_db
def test_program_status_open_then_exhausted(client):
    from tests.factories import make_program

    program = make_program(budget="6000.00")
    assert client.get(f"/api/v1/programs/{program.code}/").json()["status"] == "open"
    submit_claim(program)
    body = client.get(f"/api/v1/programs/{program.code}/").json()
    assert body["status"] == "exhausted" and body["budget"]["available"] == "0.00"


@pytest.mark.django_db
def test_healthz(client):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json()["database"] == "ok" and r.json()["broker"] == "ok"


@pytest.mark.django_db
def test_healthz_broker_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {}
    r = client.get("/healthz")
    assert r.status_code == 503 and r.json()["broker"].startswith("error")


@pytest.mark.django_db
def test_openapi_schema_served(client):
    r = client.get("/api/schema/")
    assert r.status_code == 200 and b"/api/v1/claims/" in r.content


@pytest.mark.django_db
def test_api_docs_page_uses_local_assets(client):
    r = client.get("/api/docs/")
    assert r.status_code == 200
    assert b"cdn.jsdelivr" not in r.content and b"/static/drf_spectacular_sidecar/" in r.content
