"""SMS backends, chosen by the `SMS_BACKEND` setting (a dotted path to a class).

* `FileBackend` (default): appends one JSON line `{to, text, claim_number, event, sent_at}` to
  `<data folder>/outbox/sms.jsonl`, under an exclusive file lock, in one write, then fsync.
* `AliyunSmsBackend`: Alibaba Cloud SMS (dysmsapi `SendSms`, RPC style, signature method HMAC-SHA1, version 1.0):
  the parameters sorted by name, each percent-encoded (RFC 3986), joined into the canonical query; the string to
  sign is `POST&%2F&` + the encoded canonical query; the signature is Base64(HMAC-SHA1(secret + "&", that string)).

A backend raises `SmsTransientError` for what may work later (network, timeouts, 5xx, the provider's throttling)
and `SmsPermanentError` for what never will (a refused number, a bad template); the sender retries only the first.
"""

from __future__ import annotations

import base64
import datetime as dt
import fcntl
import hashlib
import hmac
import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from claims.crypto import mask_phone

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    claim_number: str
    event: str
    key: str  # the outbox row's unique key: a provider's "out id", for tracing
    params: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:  # never the full phone number in logs or tracebacks
        return f"SmsMessage(to={mask_phone(self.to)!r}, claim_number={self.claim_number!r}, event={self.event!r})"


class SmsError(Exception):
    pass


class SmsTransientError(SmsError):
    """May succeed later: the sender retries."""


class SmsPermanentError(SmsError):
    """Will never succeed as it is: the message is marked failed."""


class SmsBackend(Protocol):
    def send(self, message: SmsMessage) -> str:
        """Send `message`; return the provider's reference (may be empty)."""
        ...


def sms_backend() -> SmsBackend:
    return import_string(settings.SMS_BACKEND)()


class FileBackend:
    """Development and default backend: an append-only JSON-lines file that a person or a gateway can read."""

    def __init__(self, path: Path | None = None):
        self.path = Path(path or settings.SMS_OUTBOX_FILE)

    def send(self, message: SmsMessage) -> str:
        line = {
            "to": message.to,
            "text": message.text,
            "claim_number": message.claim_number,
            "event": message.event,
            "sent_at": timezone.localtime().isoformat(),
        }
        data = (json.dumps(line, ensure_ascii=False) + "\n").encode()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                written = os.write(fd, data)
                if written != len(data):  # pragma: no cover - a full disk
                    raise SmsTransientError(f"short write to {self.path}")
                os.fsync(fd)
            finally:
                os.close(fd)  # releases the lock
        except OSError as exc:
            raise SmsTransientError(f"cannot append to {self.path}: {exc}") from exc
        return ""


# --- Alibaba Cloud SMS ------------------------------------------------------------------------------------------


def aliyun_percent_encode(value: str) -> str:
    """RFC 3986 encoding as the provider's signature requires: only A-Z a-z 0-9 - _ . ~ stay as they are."""
    return urllib.parse.quote(str(value), safe="-_.~")


def aliyun_string_to_sign(method: str, params: dict[str, str]) -> str:
    canonical = "&".join(
        f"{aliyun_percent_encode(k)}={aliyun_percent_encode(v)}" for k, v in sorted(params.items())
    )
    return f"{method}&{aliyun_percent_encode('/')}&{aliyun_percent_encode(canonical)}"


def aliyun_signature(secret: str, method: str, params: dict[str, str]) -> str:
    """Base64(HMAC-SHA1(secret + "&", string to sign)) over every parameter except `Signature`."""
    to_sign = aliyun_string_to_sign(method, {k: v for k, v in params.items() if k != "Signature"})
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


# The provider's error codes worth retrying (throttling, its own faults); every other code is final.
ALIYUN_TRANSIENT_CODES = frozenset(
    {
        "isv.BUSINESS_LIMIT_CONTROL",
        "isp.SYSTEM_ERROR",
        "Throttling",
        "Throttling.User",
        "ServiceUnavailable",
        "InternalError",
        "SignatureNonceUsed",
    }
)


class AliyunSmsBackend:
    """Alibaba Cloud SMS `SendSms` over HTTPS. Settings: `ALIYUN_SMS_ACCESS_KEY_ID`, `ALIYUN_SMS_ACCESS_KEY_SECRET`,
    `ALIYUN_SMS_SIGN_NAME`, `ALIYUN_SMS_TEMPLATE_CODE` (and optionally `ALIYUN_SMS_TEMPLATE_CODES`, a JSON object
    of event -> template code), `ALIYUN_SMS_ENDPOINT`, `ALIYUN_SMS_REGION`, `SMS_HTTP_TIMEOUT`.

    The registered template receives the message's values as `TemplateParam`, plus the whole text as `content`.
    """

    version = "2017-05-25"

    def __init__(self):
        self.key_id = settings.ALIYUN_SMS_ACCESS_KEY_ID
        self.secret = settings.ALIYUN_SMS_ACCESS_KEY_SECRET
        self.sign_name = settings.ALIYUN_SMS_SIGN_NAME
        self.template_code = settings.ALIYUN_SMS_TEMPLATE_CODE
        self.template_codes = dict(settings.ALIYUN_SMS_TEMPLATE_CODES or {})
        self.endpoint = settings.ALIYUN_SMS_ENDPOINT.rstrip("/") + "/"
        self.region = settings.ALIYUN_SMS_REGION
        self.timeout = float(settings.SMS_HTTP_TIMEOUT)
        if not (
            self.key_id and self.secret and self.sign_name and (self.template_code or self.template_codes)
        ):
            raise SmsPermanentError(
                "Alibaba Cloud SMS is not configured (access key, sign name, template code)"
            )

    def params(
        self, message: SmsMessage, *, now: dt.datetime | None = None, nonce: str | None = None
    ) -> dict:
        now = now or dt.datetime.now(dt.UTC)
        template_param = {**message.params, "content": message.text}
        params = {
            "AccessKeyId": self.key_id,
            "Action": "SendSms",
            "Format": "JSON",
            "OutId": message.key[:64],
            "PhoneNumbers": message.to,
            "RegionId": self.region,
            "SignName": self.sign_name,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": nonce or uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": self.template_codes.get(message.event, self.template_code),
            "TemplateParam": json.dumps(template_param, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": self.version,
        }
        params["Signature"] = aliyun_signature(self.secret, "POST", params)
        return params

    def send(self, message: SmsMessage) -> str:
        body = urllib.parse.urlencode(self.params(message), quote_via=urllib.parse.quote).encode()
        request = urllib.request.Request(
            self.endpoint,
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - configured URL
                raw = response.read(65536)
        except urllib.error.HTTPError as exc:
            raw = exc.read(65536)
            if exc.code >= 500 or exc.code == 429:
                raise SmsTransientError(f"HTTP {exc.code}") from exc
            answer = _json(raw)
            code = answer.get("Code", f"HTTP {exc.code}")
            if code in ALIYUN_TRANSIENT_CODES:
                raise SmsTransientError(code) from exc
            raise SmsPermanentError(f"{code}: {answer.get('Message', '')}"[:300]) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as exc:
            raise SmsTransientError(f"{type(exc).__name__}: {exc}"[:300]) from exc
        answer = _json(raw)
        code = answer.get("Code")
        if code == "OK":
            return str(answer.get("BizId", ""))[:100]
        if code in ALIYUN_TRANSIENT_CODES or code is None:
            raise SmsTransientError(str(code or "unreadable answer"))
        raise SmsPermanentError(f"{code}: {answer.get('Message', '')}"[:300])


def _json(raw: bytes) -> dict:
    try:
        value = json.loads(raw.decode("utf-8", "replace") or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
