"""Fraud signals: a card or phone shared by different applicants, and a re-saved, resized copy of a photo."""

from __future__ import annotations

import io
import random

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, ImageDraw, ImageFilter
from rest_framework.test import APIClient

from claims.fraud.models import DocumentFingerprint
from conftest import token_client
from tests.factories import claim_payload, make_bank_account

pytestmark = pytest.mark.django_db
KINDS = ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip")


def photo(seed: int, size=(1200, 800)) -> Image.Image:
    r = random.Random(seed)
    img = Image.new("RGB", size, (r.randrange(256),) * 3)
    draw = ImageDraw.Draw(img)
    for _ in range(40):
        x, y = r.randrange(size[0]), r.randrange(size[1])
        draw.ellipse(
            (x, y, x + r.randrange(50, 400), y + r.randrange(50, 300)),
            fill=tuple(r.randrange(256) for _ in "rgb"),
        )
    return img.filter(ImageFilter.GaussianBlur(2))


def jpeg(img: Image.Image, quality: int = 90) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def photos(seed: int, **replace: bytes) -> dict:
    return {
        kind: SimpleUploadedFile(
            f"{kind}.jpg", replace.get(kind) or jpeg(photo(seed * 10 + i, (480, 320))), "image/jpeg"
        )
        for i, kind in enumerate(KINDS)
    }


def submit(program, files, capture, **fields) -> str:
    with capture(execute=True):
        r = APIClient().post(
            "/api/v1/claims/", {**claim_payload(program.code, **fields), **files}, format="multipart"
        )
    assert r.status_code == 201, r.json()
    return r.json()["claim_number"]


def checks(client, number: str) -> dict:
    return {c["code"]: c for c in client.get(f"/api/v1/staff/claims/{number}/").json()["checks"]}


def test_shared_card_and_phone_across_applicants(program, reviewer, django_capture_on_commit_callbacks):
    card = make_bank_account()
    a = submit(program, photos(1), django_capture_on_commit_callbacks, phone="13900001111", bank_account=card)
    b = submit(program, photos(2), django_capture_on_commit_callbacks, phone="13900001111", bank_account=card)
    c = submit(program, photos(3), django_capture_on_commit_callbacks, phone="13900002222")
    api = token_client(reviewer)
    for number in (a, b):
        found = checks(api, number)
        assert found["bank_account_shared"]["result"] == "fail", found["bank_account_shared"]
        assert found["phone_shared"]["result"] == "fail"
        assert card not in found["bank_account_shared"]["detail"]  # masked, never the clear number
    assert b in checks(api, a)["phone_shared"]["detail"]  # the earlier claim learns of the later one
    found = checks(api, c)
    assert found["bank_account_shared"]["result"] == "pass" and found["phone_shared"]["result"] == "pass"
    assert all(found[k]["result"] == "pass" for k in ("document_near_duplicate",))


def test_same_applicant_sharing_a_phone_is_not_a_signal(
    program, reviewer, django_capture_on_commit_callbacks
):
    fields = claim_payload(program.code)
    a = submit(
        program,
        photos(4),
        django_capture_on_commit_callbacks,
        id_number=fields["id_number"],
        phone="13900003333",
    )
    submit(
        program,
        photos(5),
        django_capture_on_commit_callbacks,
        id_number=fields["id_number"],
        phone="13900003333",
    )
    assert checks(token_client(reviewer), a)["phone_shared"]["result"] == "pass"


def test_resaved_resized_photo_of_another_claim_fails(program, reviewer, django_capture_on_commit_callbacks):
    original = photo(777)
    a = submit(program, photos(6, vehicle_license=jpeg(original)), django_capture_on_commit_callbacks)
    w, h = original.size
    copy = original.crop((w // 50, h // 50, w - w // 50, h - h // 50)).resize((w // 2, h // 2))
    b = submit(program, photos(7, vehicle_license=jpeg(copy, quality=60)), django_capture_on_commit_callbacks)
    c = submit(program, photos(8), django_capture_on_commit_callbacks)
    api = token_client(reviewer)
    found = checks(api, b)
    assert found["document_near_duplicate"]["result"] == "fail"
    assert a in found["document_near_duplicate"]["detail"]
    assert (
        found["duplicate_document"]["result"] == "pass"
    )  # not byte-identical: only the perceptual hash sees it
    assert checks(api, a)["document_near_duplicate"]["result"] == "fail"
    assert checks(api, c)["document_near_duplicate"]["result"] == "pass"
    assert DocumentFingerprint.objects.count() == 15  # one per image, stored once

    client = APIClient()
    client.force_login(reviewer)
    page = client.get("/admin/claims/documentfingerprint/")
    assert page.status_code == 200
    body = page.content.decode().split('id="cluster-image"')[1]
    assert a in body and b in body and c not in body
