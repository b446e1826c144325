"""Valid test data: resident IDs, VINs, credit codes, plates, bank cards, images, and whole submissions."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import itertools
import json
import random
from decimal import Decimal
from pathlib import Path

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from claims.intake.validators import credit_code_check_char, id_number_check_char, vin_check_digit

# A random start keeps numbers unique across runs against one database (benchmarks, a dev server).
_counter = itertools.count(random.SystemRandom().randrange(1, 900_000))
VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
PLATE_CHARS = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"


def make_id_number(
    birth: dt.date = dt.date(1990, 1, 1), region: str = "141182", seq: int | None = None
) -> str:
    seq = next(_counter) % 1000 if seq is None else seq
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_number_check_char(first17)


def make_vin(n: int | None = None, wmi: str = "LSV") -> str:
    n = next(_counter) if n is None else n
    rnd = random.Random(n)
    body = wmi + "".join(rnd.choice(VIN_CHARS) for _ in range(5)) + "0" + "P" + "A" + f"{n % 1_000_000:06d}"
    vin = body[:8] + vin_check_digit(body) + body[9:]
    return vin


def make_credit_code(n: int = 1) -> str:
    first17 = f"9114118{n:010d}"
    return first17 + credit_code_check_char(first17)


def make_bank_account(n: int | None = None) -> str:
    """A 19-digit card number with a valid Luhn check digit."""
    n = next(_counter) if n is None else n
    body = f"621700{n:012d}"
    total = 0
    for i, d in enumerate(reversed(body)):
        x = int(d) * (2 if i % 2 == 0 else 1)
        total += x - 9 if x > 9 else x
    return body + str((10 - total % 10) % 10)


def make_plate(nev: bool = False, n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    if nev:
        return f"晋JD{n % 100000:05d}"
    return f"晋J{n % 100000:05d}"


def make_invoice_number(n: int | None = None) -> str:
    n = next(_counter) if n is None else n
    return f"{n % 100_000_000:08d}"


def image_bytes(text: str = "doc", size=(320, 200), fmt: str = "PNG", color="white") -> bytes:
    img = Image.new("RGB", size, color)
    ImageDraw.Draw(img).text((10, 10), text, fill="black")
    buf = io.BytesIO()
    img.save(buf, fmt)
    return buf.getvalue()


def document_files(tag: str | int | None = None) -> dict[str, SimpleUploadedFile]:
    """Five small real images, distinct per call (so they never count as re-used documents)."""
    tag = next(_counter) if tag is None else tag
    return {
        kind: SimpleUploadedFile(f"{kind}.png", image_bytes(f"{kind} {tag}"), content_type="image/png")
        for kind in ("invoice", "id_card_front", "id_card_back", "vehicle_license", "pos_slip")
    }


def claim_payload(program_code: str, *, today: dt.date | None = None, **overrides) -> dict[str, str]:
    """A valid submission's fields; `overrides` replace any of them (None removes one)."""
    n = next(_counter)
    today = today or timezone.localdate()
    fuel = overrides.get("fuel_type", "nev")
    data = {
        "program": program_code,
        "applicant_name": "张三",
        "id_number": make_id_number(seq=n % 1000),
        "phone": "13800138000",
        "fuel_type": fuel,
        "vin": make_vin(n),
        "plate_number": make_plate(nev=fuel == "nev", n=n),
        "invoice_code": "141002300111",
        "invoice_number": make_invoice_number(n),
        "invoice_date": today.isoformat(),
        "invoice_amount": "158000.00",
        "dealer_credit_code": make_credit_code(1),
        "license_issue_date": today.isoformat(),
        "pos_amount": "30000.00",
        "pos_date": today.isoformat(),
        "bank_name": "中国建设银行汾阳支行",
        "bank_account": make_bank_account(n),
        "account_holder": "张三",
    }
    for key, value in overrides.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    return data


def program_document(
    code: str = "test-car", *, budget: str = "800000.00", today: dt.date | None = None, **extra
) -> dict:
    """A program like Fenyang's whose windows include today."""
    today = today or timezone.localdate()
    data = json.loads(
        (Path(__file__).resolve().parent.parent / "programs" / "fenyang-2023-car.json").read_text()
    )
    data.update(
        code=code,
        claim_prefix="T" + hashlib.sha1(code.encode()).hexdigest()[:6].upper(),
        budget_total=budget,
        claim_window={
            "start": (today - dt.timedelta(days=30)).isoformat(),
            "end": (today + dt.timedelta(days=30)).isoformat(),
        },
        purchase_window={
            "start": (today - dt.timedelta(days=60)).isoformat(),
            "end": (today + dt.timedelta(days=30)).isoformat(),
        },
    )
    data.update(extra)
    return data


def make_program(code: str = "test-car", **kwargs):
    from claims.programs.services import program_load, program_parse

    program, _created = program_load(program_parse(program_document(code, **kwargs)))
    return program


def submit_claim(program, *, files=None, **overrides):
    """Submit through the service (as the API does) and return the claim."""
    from claims.intake.services import claim_submit

    result = claim_submit(program.code, claim_payload(program.code, **overrides), files or document_files())
    return result.claim


def money(value: str) -> Decimal:
    return Decimal(value)


def make_staff(username: str, role: str, password: str = "pass-word-123"):
    from claims.accounts.services import staff_create

    return staff_create(username, role, password)


def make_dealer_staff(username: str = "dealer1", dealer: int = 1, password: str = "pass-word-123"):
    """A dealer account for the dealer with make_credit_code(dealer), made as an administrator would."""
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    call_command(
        "create_staff",
        username,
        "--role",
        "dealer",
        "--password",
        password,
        "--dealer-credit-code",
        make_credit_code(dealer),
        stdout=io.StringIO(),
    )
    return get_user_model().objects.get(username=username)


def pdf_from_objects(objects: list[bytes], trailer: bytes = b"/Root 1 0 R") -> bytes:
    """A PDF of numbered objects (1, 2, ...) with a correct cross-reference table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d " % (len(objects) + 1) + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def open_claim(user, claim) -> None:
    """A reviewer opens the claim's staff detail, as one must before deciding it (the audited display)."""
    from claims.review.pii import claim_staff_view

    claim_staff_view(claim.claim_number, user=user, document_url=lambda d: "")
