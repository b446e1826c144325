"""The buyers' pages through the real stack: Django test client, services, database, templates."""

from __future__ import annotations

import re
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from claims.models import Claim, IdempotencyRecord
from tests.factories import claim_payload, document_files, make_program
from tests.web.states import STATES, make_claim_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_program(db):
    # Two 6,000 claims fill it, so a third waits.
    return make_program("web-car", budget="12000.00")


def html(response) -> str:
    return response.content.decode()


def apply_post(client, program, payload=None, files=None, *, key=None, declaration="1", **kwargs):
    data = {**(payload or claim_payload(program.code)), **(files or document_files())}
    if declaration:
        data["declaration"] = declaration
    data["idempotency_key"] = key or uuid.uuid4().hex
    return client.post(reverse("web:apply", args=[program.code]), data, **kwargs)


def login_claim(client, claim_number, id_number):
    r = client.post(reverse("web:lookup"), {"claim_number": claim_number, "id_number": id_number})
    assert r.status_code == 302, html(r)
    return r


# --- Programs --------------------------------------------------------------------------------------------------


def test_program_list(client, program):
    r = client.get("/")
    assert r.status_code == 200
    body = html(r)
    assert program.name in body
    assert reverse("web:program", args=[program.code]) in body
    assert "¥800,000.00" in body


def test_program_page_shows_rules_tiers_budget_and_counter(client, small_program):
    make_claim_in(small_program, "waitlisted")  # 2 reserved, 1 waiting
    r = client.get(reverse("web:program", args=[small_program.code]))
    body = html(r)
    assert r.status_code == 200
    for text in ("谁购买、补贴谁", "国六", "行驶证", "POS", "本人名下的银行借记卡", "线下受理窗口"):
        assert text in body
    assert "¥12,000.00" in body  # total
    assert body.count("¥0.00") >= 2  # paid and available
    assert "1 份申请" in body  # waiting
    assert "¥7,000.00" in body and "¥2,500.00" in body  # tier table
    assert reverse("web:apply", args=[small_program.code]) in body  # waitlist still accepts


def test_calculator_names_the_tier_and_why(client, program):
    url = reverse("web:program", args=[program.code])
    r = client.get(url, {"invoice_amount": "158000", "fuel_type": "nev"})
    body = html(r)
    assert "可获补贴 ¥6,000.00" in body
    assert "高于 ¥100,000.00、不超过 ¥200,000.00，属于第 3 档" in body
    assert re.search(r'<tr class="applied" aria-current="true"><th scope="row">3</th>', body)
    # Boundaries: upper bound inclusive, lower exclusive
    assert "可获补贴 ¥5,000.00" in html(client.get(url, {"invoice_amount": "200000.00", "fuel_type": "fuel"}))
    assert "可获补贴 ¥6,000.00" in html(client.get(url, {"invoice_amount": "200000.01", "fuel_type": "fuel"}))
    below = html(client.get(url, {"invoice_amount": "20000", "fuel_type": "fuel"}))
    assert "发票金额须高于" in below and "可获补贴" not in below
    assert "请填写正确的发票金额" in html(client.get(url, {"invoice_amount": "abc", "fuel_type": "fuel"}))


def test_unknown_program_is_404(client, db):
    assert client.get("/p/nope/").status_code == 404
    assert client.get("/p/nope/apply/").status_code == 404


# --- The application ----------------------------------------------------------------------------------------------


def test_apply_form_renders_steps_fields_and_camera_inputs(client, program):
    r = client.get(reverse("web:apply", args=[program.code]))
    body = html(r)
    assert r.status_code == 200
    assert "csrfmiddlewaretoken" in body
    assert re.search(r'name="idempotency_key" value="[0-9a-f]{32}"', body)
    for step in ("申请人", "车辆", "购车发票", "刷卡与收款", "上传材料", "确认并提交"):
        assert step in body
    for name in (
        "applicant_name",
        "id_number",
        "phone",
        "vin",
        "plate_number",
        "invoice_number",
        "invoice_amount",
    ):
        assert f'<label for="f-{name}">' in body
        assert f'id="f-{name}"' in body
    for kind in ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip"):
        assert re.search(
            rf'type="file" name="{kind}" id="f-{kind}" accept="image/\*,application/pdf[^"]*"(?! capture)',
            body,
        )
    assert 'name="declaration"' in body
    # a fresh token per render
    again = html(client.get(reverse("web:apply", args=[program.code])))
    token = re.compile(r'name="idempotency_key" value="([0-9a-f]{32})"')
    assert token.search(body).group(1) != token.search(again).group(1)


def test_submit_shows_confirmation_with_claim_number(client, program):
    payload = claim_payload(program.code)
    r = apply_post(client, program, payload)
    assert r.status_code == 302
    claim = Claim.objects.get()
    assert r["Location"] == reverse("web:submitted", args=[claim.claim_number])
    assert payload["id_number"] not in r["Location"]
    body = html(client.get(r["Location"]))
    assert claim.claim_number in body
    assert "审核中" in body and "补贴资金已为您预留" in body
    assert "¥6,000.00" in body


def test_submit_waitlisted_shows_queue_place(client, small_program):
    make_claim_in(small_program, "under_review")
    make_claim_in(small_program, "under_review")
    r = apply_post(client, small_program)
    body = html(client.get(r["Location"]))
    assert "候补排队中" in body and "第 1 位" in body and "没有为您预留资金" in body


def test_field_errors_are_the_services_codes_tied_to_their_fields(client, program):
    payload = claim_payload(
        program.code, vin="LSVAA", id_number="141182199001011234", bank_account="12345", account_holder="李四"
    )
    files = document_files()
    files["invoice"].file.write(b"")  # keep as is
    files["pos_slip"] = type(files["pos_slip"])("slip.png", b"not an image", content_type="image/png")
    r = apply_post(client, program, payload, files)
    assert r.status_code == 400
    body = html(r)
    expected = {
        "vin": "invalid_vin",
        "id_number": "invalid_id_number",
        "bank_account": "invalid_bank_account",
        "account_holder": "account_holder_mismatch",
        "pos_slip": "invalid_file",
    }
    for field, code in expected.items():
        assert re.search(rf'id="f-{field}-error" data-error-for="{field}"><p data-code="{code}">', body), (
            field
        )
        assert re.search(rf'id="f-{field}"[^>]*aria-describedby="[^"]*f-{field}-error"', body), field
        assert re.search(rf'id="f-{field}"[^>]*aria-invalid="true"', body), field
    assert "车辆识别代号（VIN）应为17位" in body
    assert 'href="#f-vin"' in body  # summary links to the field
    # values kept, except the ID and card numbers
    assert f'value="{payload["plate_number"]}"' in body
    assert payload["id_number"] not in body and "12345" not in body.split('name="bank_account"')[1][:200]
    assert Claim.objects.count() == 0


def test_below_minimum_and_window_codes(client, program):
    payload = claim_payload(
        program.code, invoice_amount="20000.00", invoice_date="2001-01-01", pos_amount="100"
    )
    body = html(apply_post(client, program, payload))
    assert 'data-code="below_minimum_amount"' in body
    assert 'data-code="purchase_out_of_window"' in body
    assert 'data-code="pos_below_minimum"' in body


def test_missing_declaration_is_refused_without_a_claim(client, program):
    r = apply_post(client, program, declaration="")
    assert r.status_code == 400
    assert 'data-code="required"' in html(r) and "真实性承诺" in html(r)
    assert Claim.objects.count() == 0


def test_duplicate_vehicle_conflict_is_shown_on_the_vin(client, program):
    claim, payload = make_claim_in(program, "under_review")
    again = claim_payload(program.code, vin=payload["vin"])
    r = apply_post(client, program, again)
    assert r.status_code == 409
    assert re.search(r'data-error-for="vin"><p data-code="duplicate_vehicle">', html(r))


def test_server_side_quote_after_an_error(client, program):
    payload = claim_payload(program.code, vin="bad", invoice_amount="230000", fuel_type="nev")
    body = html(apply_post(client, program, payload))
    assert "预计补贴 ¥7,000.00" in body and "属于第 4 档" in body


def test_double_post_makes_one_claim(client, program):
    payload = claim_payload(program.code)
    files = document_files()
    raw = {k: f.read() for k, f in files.items()}

    def fresh_files():
        return {k: type(f)(f.name, raw[k], content_type="image/png") for k, f in files.items()}

    key = uuid.uuid4().hex
    first = apply_post(client, program, payload, fresh_files(), key=key)
    second = apply_post(client, program, payload, fresh_files(), key=key)
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]
    assert Claim.objects.count() == 1
    assert IdempotencyRecord.objects.count() == 1
    program.refresh_from_db()
    assert str(program.reserved) == "6000.00"
    # A second browser retrying the same post (same token, no session) lands on the lookup instead.
    other = Client()
    third = apply_post(other, program, payload, fresh_files(), key=key)
    assert third.status_code == 302 and Claim.objects.count() == 1


def test_closed_program_shows_no_form(client, db):
    import datetime as dt

    from django.utils import timezone

    today = timezone.localdate()
    program = make_program(
        "old-car",
        claim_window={"start": "2020-01-01", "end": (today - dt.timedelta(days=1)).isoformat()},
        purchase_window={"start": "2020-01-01", "end": (today - dt.timedelta(days=1)).isoformat()},
    )
    body = html(client.get(reverse("web:apply", args=[program.code])))
    assert "受理已结束" in body and 'id="apply-form"' not in body
    r = apply_post(client, program)
    assert r.status_code == 409 and "不在受理期内" in html(r)


# --- My claim ---------------------------------------------------------------------------------------------------


def test_lookup_wrong_id_and_unknown_number_answer_the_same(client, program):
    claim, payload = make_claim_in(program, "under_review")
    wrong = client.post(
        reverse("web:lookup"), {"claim_number": claim.claim_number, "id_number": "110101199003074513"}
    )
    unknown = client.post(
        reverse("web:lookup"), {"claim_number": "FY23-999999", "id_number": payload["id_number"]}
    )
    assert wrong.status_code == unknown.status_code == 404
    message = "未找到与申请编号和身份证号相符的申请"
    assert message in html(wrong) and message in html(unknown)
    # No access without a lookup
    r = client.get(reverse("web:claim", args=[claim.claim_number]))
    assert r.status_code == 302 and r["Location"].startswith(reverse("web:lookup"))


@pytest.mark.parametrize("state", STATES)
def test_every_page_renders_in_every_state(client, small_program, state):
    claim, payload = make_claim_in(small_program, state)
    r = login_claim(client, claim.claim_number.lower(), payload["id_number"])
    assert payload["id_number"] not in r["Location"]
    detail = html(client.get(r["Location"]))
    claim.refresh_from_db()
    assert claim.claim_number in detail
    assert claim.get_status_display() in detail
    assert payload["id_number"] not in detail and claim.id_number_masked in detail
    assert payload["bank_account"] not in detail
    # No amount for a claim that gets none; a rejected claim shows its reason first.
    assert ("¥6,000.00" in detail) == (state not in ("rejected", "withdrawn"))
    if state == "rejected":
        assert detail.index('id="reject-reason"') < detail.index("办理记录")
    if state in ("under_review", "approved"):
        assert 'id="amount-explained"' in detail and "（不含）以上" in detail and "新能源" in detail
    assert "申请已受理" in detail or "预算暂不足" in detail  # history
    pages = {
        "submitted": reverse("web:submitted", args=[claim.claim_number]),
        "withdraw": reverse("web:withdraw", args=[claim.claim_number]),
        "correct": reverse("web:correct", args=[claim.claim_number]),
        "bank": reverse("web:bank-account", args=[claim.claim_number]),
    }
    for name, url in pages.items():
        page = client.get(url)
        assert page.status_code in (200, 302), (name, page.status_code)
        if page.status_code == 200:
            assert payload["id_number"] not in html(page)
    withdrawable = state in ("under_review", "waitlisted", "returned", "payout_failed")
    assert (pages["withdraw"] in detail) == withdrawable
    if state == "waitlisted":
        assert "第 1 位" in detail
    if state == "returned":
        for text in (
            "发票照片不清晰",
            "发票金额（价税合计，元）",
            "车牌号",
            "机动车销售统一发票",
            "补正截止日期",
        ):
            assert text in detail
        form = html(client.get(pages["correct"]))
        assert 'name="invoice_amount"' in form and 'name="plate_number"' in form and 'name="invoice"' in form
        assert (
            'name="vin"' not in form
            and 'name="bank_account"' not in form
            and 'name="id_card_front"' not in form
        )
        assert 'value="158000.00"' in form  # prefilled current value
    else:
        assert client.get(pages["correct"]).status_code == 302
    if state == "paid":
        assert "CCB20240101000123" in detail and "发放时间" in detail
    if state == "payout_failed":
        assert "户名与账号不符" in detail and pages["bank"] in detail
        form = html(client.get(pages["bank"]))
        assert 'name="bank_account"' in form and 'name="account_holder"' in form and 'name="vin"' not in form
    else:
        assert client.get(pages["bank"]).status_code == 302
    if state == "rejected":
        assert "不符合个人消费者条件" in detail


def test_withdraw_with_confirmation(client, small_program):
    claim, payload = make_claim_in(small_program, "under_review")
    waiting, _ = make_claim_in(small_program, "waitlisted")
    login_claim(client, claim.claim_number, payload["id_number"])
    url = reverse("web:withdraw", args=[claim.claim_number])
    assert "确认撤回" in html(client.get(url))
    r = client.post(url, {})
    assert r.status_code == 400
    claim.refresh_from_db()
    assert claim.status == "under_review"
    r = client.post(
        url, {"confirm": "1", "phone_last4": "0000" if payload["phone"][-4:] != "0000" else "1111"}
    )
    assert r.status_code == 404
    claim.refresh_from_db()
    assert claim.status == "under_review"
    r = client.post(url, {"confirm": "1", "phone_last4": payload["phone"][-4:]})
    assert r.status_code == 302
    claim.refresh_from_db()
    waiting.refresh_from_db()
    assert claim.status == "withdrawn" and waiting.status == "under_review"
    body = html(client.get(r["Location"]))
    assert "已撤回" in body and "申请人撤回申请" in body


def test_correction_keeps_the_place_and_goes_back_to_review(client, small_program):
    claim, payload = make_claim_in(small_program, "returned")
    login_claim(client, claim.claim_number, payload["id_number"])
    url = reverse("web:correct", args=[claim.claim_number])
    files = {"invoice": document_files()["invoice"]}
    # A field that was not returned is refused by the service, with its code on the field.
    r = client.post(url, {"invoice_amount": "158000.00", "vin": payload["vin"], **files})
    assert r.status_code == 400
    assert re.search(
        r'data-error-for="vin"><p data-code="field_not_returned">', html(r)
    ) or "field_not_returned" in html(r)
    files = {"invoice": document_files()["invoice"]}
    r = client.post(url, {"invoice_amount": "158000.00", "plate_number": payload["plate_number"], **files})
    assert r.status_code == 302, html(r)
    claim.refresh_from_db()
    assert claim.status == "under_review" and claim.seq == 1
    body = html(client.get(r["Location"]))
    assert "补正材料已提交" in body and "申请人已补正" in body


def test_correction_errors_are_rendered(client, program, monkeypatch):
    from claims.errors import FieldError, ValidationFailed
    from claims.web import views

    calls = []

    def fake_correct(claim_number, id_number, raw, files):
        calls.append((claim_number, id_number, dict(raw), set(files)))
        raise ValidationFailed([FieldError("invalid_plate", "车牌号码格式不正确", "plate_number")])

    monkeypatch.setattr(views, "claim_correct", fake_correct)
    claim, payload = make_claim_in(program, "returned")
    login_claim(client, claim.claim_number, payload["id_number"])
    r = client.post(reverse("web:correct", args=[claim.claim_number]), {"plate_number": "X"})
    assert r.status_code == 400
    assert re.search(r'data-error-for="plate_number"><p data-code="invalid_plate">', html(r))
    assert calls[0][0] == claim.claim_number and calls[0][1] == payload["id_number"]


def test_bank_account_form_calls_the_payouts_service(client, program):
    claim, payload = make_claim_in(program, "payout_failed")
    login_claim(client, claim.claim_number, payload["id_number"])
    url = reverse("web:bank-account", args=[claim.claim_number])
    data = {"bank_name": "中国银行汾阳支行", "bank_account": "6216610200016587010", "account_holder": "李四"}
    r = client.post(url, data)
    assert r.status_code == 400
    assert re.search(r'data-error-for="account_holder"><p data-code="account_holder_mismatch">', html(r))
    assert "6216610200016587010" not in html(r)
    r = client.post(url, {**data, "account_holder": "张三"})
    assert r.status_code == 302, html(r)
    claim.refresh_from_db()
    assert claim.status == "approved" and claim.bank_account_masked.endswith("7010")
    body = html(client.get(r["Location"]))
    assert "新的收款账户已提交" in body and "6216610200016587010" not in body


def test_forget_ends_access(client, program):
    claim, payload = make_claim_in(program, "under_review")
    login_claim(client, claim.claim_number, payload["id_number"])
    assert client.get(reverse("web:claim", args=[claim.claim_number])).status_code == 200
    client.post(reverse("web:forget"))
    assert client.get(reverse("web:claim", args=[claim.claim_number])).status_code == 302


def test_session_for_one_claim_does_not_open_another(client, program):
    mine, payload = make_claim_in(program, "under_review")
    other, _ = make_claim_in(program, "under_review")
    login_claim(client, mine.claim_number, payload["id_number"])
    assert client.get(reverse("web:claim", args=[other.claim_number])).status_code == 302
    assert (
        client.post(reverse("web:withdraw", args=[other.claim_number]), {"confirm": "1"}).status_code == 302
    )
    other.refresh_from_db()
    assert other.status == "under_review"


# --- Security and limits ------------------------------------------------------------------------------------------


def test_csrf_is_required_on_every_form(program):
    csrf_client = Client(enforce_csrf_checks=True)
    claim, payload = make_claim_in(program, "under_review")
    assert csrf_client.post(reverse("web:apply", args=[program.code]), {}).status_code == 403
    assert csrf_client.post(reverse("web:lookup"), {"claim_number": claim.claim_number}).status_code == 403
    assert csrf_client.post(reverse("web:forget")).status_code == 403
    for name in ("withdraw", "correct", "bank-account"):
        assert csrf_client.post(reverse(f"web:{name}", args=[claim.claim_number]), {}).status_code == 403


def test_lookup_shares_the_api_rate_limit(client, program, settings):
    claim, payload = make_claim_in(program, "under_review")
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "lookup": "2/min"},
    }
    api = client.post(
        "/api/v1/claims/lookup/",
        {"claim_number": claim.claim_number, "id_number": payload["id_number"]},
        content_type="application/json",
    )
    assert api.status_code == 200
    data = {"claim_number": claim.claim_number, "id_number": payload["id_number"]}
    assert client.post(reverse("web:lookup"), data).status_code == 302
    r = client.post(reverse("web:lookup"), data)
    assert r.status_code == 429 and "请求过于频繁" in html(r)


def test_submit_rate_limited(client, program, settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "submit": "1/min"},
    }
    assert apply_post(client, program).status_code == 302
    r = apply_post(client, program)
    assert r.status_code == 429 and "请求过于频繁" in html(r)
    assert Claim.objects.count() == 1


def test_static_files_are_served(client, live_server):
    import urllib.request

    with urllib.request.urlopen(f"{live_server.url}/static/public/site.css") as r:
        assert r.status == 200
    with urllib.request.urlopen(f"{live_server.url}/static/public/apply.js") as r:
        assert r.status == 200


def test_script_posts_are_told_where_to_go(client, program):
    r = apply_post(client, program, HTTP_X_REQUESTED_WITH="XMLHttpRequest")
    claim = Claim.objects.get()
    assert r.status_code == 204
    assert r["X-Redirect-To"] == reverse("web:submitted", args=[claim.claim_number])
    errors = apply_post(
        client, program, claim_payload(program.code, vin="bad"), HTTP_X_REQUESTED_WITH="XMLHttpRequest"
    )
    assert errors.status_code == 400 and 'data-error-for="vin"' in html(errors)
