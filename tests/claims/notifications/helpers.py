"""Reading the file backend's outbox, and a backend that fails the first attempt of each message."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings

from claims.notifications.backends import FileBackend, SmsMessage, SmsTransientError


def outbox_lines(path: Path | None = None, claim_number: str | None = None) -> list[dict]:
    path = Path(path or settings.SMS_OUTBOX_FILE)
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [line for line in lines if claim_number is None or line["claim_number"] == claim_number]


class FlakyFileBackend(FileBackend):
    """Fails (transiently) the first time it sees a message key, then writes like the file backend.

    The memory is a marker file beside the outbox, so it holds across the worker's task retries.
    """

    def send(self, message: SmsMessage) -> str:
        marker = Path(settings.SMS_OUTBOX_FILE).parent / "flaky" / message.key.replace(":", "_")
        marker.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return super().send(message)
        os.close(fd)
        raise SmsTransientError("provider busy (test)")
