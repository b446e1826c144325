"""Personal data at rest: Fernet encryption (MultiFernet for key rotation), keyed hashes, masking."""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models


@lru_cache(maxsize=1)
def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in settings.PII_ENCRYPTION_KEYS])


def encrypt(value: str) -> str:
    return _fernet().encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:  # pragma: no cover - a wrong key is a deployment error, never user input
        raise RuntimeError("PII token cannot be decrypted with the configured keys") from exc


def _hash_with(key: str, value: str) -> str:
    return hmac.new(key.encode(), value.strip().upper().encode(), hashlib.sha256).hexdigest()


def pii_hash(value: str) -> str:
    """Keyed hash for lookups and uniqueness; equal inputs give equal hashes, nothing else is revealed.

    Computed with the first of `PII_HASH_KEYS`; `pii_hashes` gives the value under every configured key, for
    lookups while `manage.py rotate_keys` moves the stored hashes to the first key.
    """
    return _hash_with(settings.PII_HASH_KEYS[0], value)


def pii_hashes(value: str) -> list[str]:
    return [_hash_with(key, value) for key in settings.PII_HASH_KEYS]


def reencrypt(token: str) -> str:
    """The same plaintext encrypted under the first key (MultiFernet.rotate)."""
    return _fernet().rotate(token.encode()).decode()


def keys_reset() -> None:
    """Forget the cached keys (after the settings changed, e.g. in tests of rotation)."""
    _fernet.cache_clear()


def mask(value: str | None, keep_start: int = 4, keep_end: int = 4) -> str:
    """`141182199001013676` -> `1411**********3676`; short values keep less so something is always hidden."""
    if not value:
        return ""
    if len(value) <= keep_start + keep_end:
        keep_start, keep_end = min(keep_start, len(value) // 4), min(keep_end, len(value) // 4)
    hidden = len(value) - keep_start - keep_end
    return value[:keep_start] + "*" * hidden + (value[-keep_end:] if keep_end else "")


def mask_phone(value: str | None) -> str:
    return mask(value, 3, 4)


def mask_name(value: str | None) -> str:
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


class EncryptedTextField(models.TextField):
    """Stores a Fernet token; Python code sees the plain string. Not searchable: pair it with a hash field."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)

    def rotate_prep(self, value: str) -> str:
        return _fernet().rotate(value.encode()).decode()
