"""OCR readings: the personal fields read (names, ID numbers, ...) move into an encrypted column."""

import json

import claims.crypto
from django.db import migrations

# Frozen copy of claims.checks.models.PERSONAL_OCR_FIELDS at the time of this migration.
PERSONAL = frozenset(
    {
        "name",
        "id_number",
        "buyer_name",
        "buyer_id_number",
        "owner",
        "address",
        "phone",
        "bank_account",
        "card_number",
    }
)


def seal(apps, schema_editor):
    DocumentReading = apps.get_model("claims", "DocumentReading")
    for reading in DocumentReading.objects.only("pk", "open_fields", "sealed_fields").iterator(
        chunk_size=500
    ):
        fields = dict(reading.open_fields or {})
        personal = {k: v for k, v in fields.items() if k in PERSONAL}
        if not personal:
            continue
        if reading.sealed_fields:
            personal = {**json.loads(reading.sealed_fields), **personal}
        reading.open_fields = {k: v for k, v in fields.items() if k not in PERSONAL}
        reading.sealed_fields = json.dumps(personal, ensure_ascii=False, sort_keys=True)
        reading.save(update_fields=["open_fields", "sealed_fields"])


def unseal(apps, schema_editor):
    DocumentReading = apps.get_model("claims", "DocumentReading")
    for reading in DocumentReading.objects.exclude(sealed_fields="").iterator(chunk_size=500):
        reading.open_fields = {**(reading.open_fields or {}), **json.loads(reading.sealed_fields)}
        reading.sealed_fields = ""
        reading.save(update_fields=["open_fields", "sealed_fields"])


class Migration(migrations.Migration):
    dependencies = [
        ("claims", "0008_merge_20261202_1248"),
    ]

    operations = [
        migrations.RenameField(model_name="documentreading", old_name="fields", new_name="open_fields"),
        migrations.AddField(
            model_name="documentreading",
            name="sealed_fields",
            field=claims.crypto.EncryptedTextField(
                blank=True, default="", verbose_name="识别的个人信息（加密）"
            ),
        ),
        migrations.RunPython(seal, unseal),
    ]
