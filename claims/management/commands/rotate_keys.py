"""`python manage.py rotate_keys`: re-encrypt every sealed field and recompute every lookup hash under the first keys.

Put the new key first in PII_ENCRYPTION_KEYS (and PII_HASH_KEYS), keep the old ones after it, run this, then
remove the old keys. Interrupted runs resume from their progress marker; `--restart` starts from the beginning.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from claims.key_rotation import rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt personal data and recompute lookup hashes under the first configured keys (resumable)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)
        parser.add_argument(
            "--restart", action="store_true", help="ignore the progress marker of an earlier run"
        )

    def handle(self, *args, batch_size: int, restart: bool, **options):
        done = rotate_keys(batch_size=max(1, batch_size), restart=restart, report=self.stdout.write)
        for label, count in done.items():
            self.stdout.write(f"{label}: {count} rows rotated")
        self.stdout.write(self.style.SUCCESS("keys rotated: the old keys can now be removed"))
