"""Key rotation: every sealed field re-encrypted under the first PII key, every lookup hash under the first hash key.

Works in batches of rows in primary-key order, one transaction per batch, and records after each batch how far it
got (a JSON file in the data folder), so an interrupted run resumes where it stopped. Re-encrypting a value that
is already under the first key changes nothing that matters, so running it twice is harmless. Once a run has
finished, the old keys can be removed from PII_ENCRYPTION_KEYS and PII_HASH_KEYS.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction

from claims.audit.services import audit_log
from claims.crypto import EncryptedTextField, pii_hash, reencrypt


@dataclass(frozen=True)
class SealedModel:
    model: type
    encrypted: tuple[str, ...]  # EncryptedTextField columns
    hashed: tuple[tuple[str, str], ...]  # (hash column, encrypted column it hashes)


def sealed_models() -> list[SealedModel]:
    """Every model of the app with encrypted fields; a `<name>_hash` column beside `<name>` is its lookup hash."""
    found = []
    for model in apps.get_app_config("claims").get_models():
        encrypted = tuple(f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField))
        if not encrypted:
            continue
        names = {f.name for f in model._meta.concrete_fields}
        hashed = tuple((f"{name}_hash", name) for name in encrypted if f"{name}_hash" in names)
        found.append(SealedModel(model, encrypted, hashed))
    return sorted(found, key=lambda s: s.model._meta.label)


def progress_path() -> Path:
    return Path(settings.DATA_DIR) / "keys" / "rotate_keys.progress.json"


def _load_progress() -> dict[str, int]:
    path = progress_path()
    return json.loads(path.read_text()) if path.exists() else {}


def _save_progress(progress: dict[str, int]) -> None:
    path = progress_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(progress))
    tmp.replace(path)


def _rotate_batch(sealed: SealedModel, after: int, batch_size: int) -> int | None:
    """Rotate the next batch of rows after primary key `after`; the last key done, or None when none was left."""
    table = connection.ops.quote_name(sealed.model._meta.db_table)
    pk = connection.ops.quote_name(sealed.model._meta.pk.column)
    columns = [sealed.model._meta.get_field(n).column for n in sealed.encrypted]
    with transaction.atomic():
        rows = list(
            sealed.model.objects.select_for_update()
            .filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", *sealed.encrypted)[:batch_size]
        )
        if not rows:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {pk}, {', '.join(connection.ops.quote_name(c) for c in columns)} FROM {table} "
                f"WHERE {pk} > %s AND {pk} <= %s",
                [after, rows[-1][0]],
            )
            tokens = {row[0]: row[1:] for row in cursor.fetchall()}
        for row in rows:
            key, plain = row[0], dict(zip(sealed.encrypted, row[1:], strict=True))
            raw = dict(zip(sealed.encrypted, tokens[key], strict=True))
            update = {n: reencrypt(raw[n]) for n in sealed.encrypted if raw[n]}
            update.update({h: pii_hash(plain[n]) for h, n in sealed.hashed if plain[n]})
            if update:
                sets = ", ".join(
                    f"{connection.ops.quote_name(sealed.model._meta.get_field(n).column)} = %s"
                    for n in update
                )
                with connection.cursor() as cursor:
                    cursor.execute(f"UPDATE {table} SET {sets} WHERE {pk} = %s", [*update.values(), key])
        return rows[-1][0]


def rotate_keys(
    *,
    batch_size: int = 500,
    restart: bool = False,
    stop_after: int | None = None,
    report: Callable[[str], None] = lambda line: None,
) -> dict[str, int]:
    """Rotate every sealed model; returns rows done per model. `stop_after` batches: for tests of resuming."""
    progress = {} if restart else _load_progress()
    done: dict[str, int] = {}
    batches = 0
    for sealed in sealed_models():
        label = sealed.model._meta.label
        after = progress.get(label, 0)
        if after == -1:
            continue  # finished in an earlier run
        while True:
            if stop_after is not None and batches >= stop_after:
                return done
            last = _rotate_batch(sealed, after, batch_size)
            if last is None:
                break
            done[label] = done.get(label, 0) + sealed.model.objects.filter(pk__gt=after, pk__lte=last).count()
            after = progress[label] = last
            _save_progress(progress)
            batches += 1
            report(f"{label}: up to id {last}")
        progress[label] = -1
        _save_progress(progress)
    audit_log("keys_rotated", actor_label="rotate_keys", rows=done)
    progress_path().unlink(missing_ok=True)
    return done
