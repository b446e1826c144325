"""The bank behind one interface, so a bank's payment API can replace the file route.

`BankGateway.pay(instruction, resume=...)` answers `booked` (with the bank's reference), `refused` (with the
bank's reason) or `unknown`. The HTTP gateway speaks this small protocol (JSON):

* `POST {base}/payments` with header `Idempotency-Key: <key>` and body
  `{key, claim_number, payee_name, account_number, bank_name, amount, purpose}` ->
  `{"status": "booked", "reference": ...}` | `{"status": "refused", "reason": ...}` | `{"status": "pending"}`.
  The bank books a key at most once; a repeated key returns the first answer.
* `GET {base}/payments/<key>` -> the same answer for a known key, 404 for an unknown one.

Exactly-once: every request carries the payout's key. After any answer that is not final (timeout, dropped
connection, 5xx, pending) the gateway never sends blindly again: it first asks for the status under the same key,
and re-sends only when the bank says it has never seen that key. Attempts are bounded; when they run out the answer
is `unknown` and the payout stays `submitted` until the next status query (the periodic sweep).
"""

from __future__ import annotations

import http.client
import json
import logging
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Literal, Protocol

from django.conf import settings

from claims.money import money_str

log = logging.getLogger(__name__)

Status = Literal["booked", "refused", "unknown"]


@dataclass(frozen=True)
class PayoutInstruction:
    key: str
    claim_number: str
    payee_name: str
    account_number: str
    bank_name: str
    amount: Decimal
    purpose: str

    def as_json(self) -> dict:
        data = asdict(self)
        data["amount"] = money_str(self.amount)
        return data

    def __repr__(self) -> str:  # never print the full account number in logs or tracebacks
        return (
            f"PayoutInstruction(key={self.key!r}, claim_number={self.claim_number!r}, amount={self.amount})"
        )


@dataclass(frozen=True)
class GatewayOutcome:
    status: Status
    bank_reference: str = ""
    reason: str = ""


class GatewayError(Exception):
    """A permanent problem (bad configuration, a request the bank will never accept): do not retry."""


class BankGateway(Protocol):
    def pay(self, instruction: PayoutInstruction, *, resume: bool = False) -> GatewayOutcome: ...


class _Answer:
    """One HTTP exchange reduced to what matters: a final outcome, 'not found', or nothing known."""

    def __init__(self, kind: str, outcome: GatewayOutcome | None = None, detail: str = ""):
        self.kind = kind  # "final" | "not_found" | "unknown"
        self.outcome = outcome
        self.detail = detail


class HttpBankGateway:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 10.0,
        max_attempts: int = 4,
        backoff: float = 0.5,
        token: str = "",
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_attempts = max(1, max_attempts)
        self.backoff = backoff
        self.token = token
        self.sleep = sleep

    # -- protocol ------------------------------------------------------------------------------------------

    def pay(self, instruction: PayoutInstruction, *, resume: bool = False) -> GatewayOutcome:
        ask_first = resume
        last = ""
        for attempt in range(self.max_attempts):
            if attempt:
                self.sleep(min(self.backoff * 2 ** (attempt - 1), 30.0))
            if ask_first:
                answer = self.status(instruction.key)
                if answer.kind == "final":
                    return answer.outcome  # type: ignore[return-value]
                if answer.kind == "unknown":
                    last = answer.detail
                    continue  # still unknown: ask again, never send blindly
                # not_found: the bank never booked this key, so sending is safe
            answer = self._send(instruction)
            if answer.kind == "final":
                return answer.outcome  # type: ignore[return-value]
            last = answer.detail
            ask_first = True
        return GatewayOutcome("unknown", reason=last[:200])

    def status(self, key: str) -> _Answer:
        return self._exchange("GET", f"/payments/{urllib.request.quote(key, safe='')}", None, key)

    def _send(self, instruction: PayoutInstruction) -> _Answer:
        return self._exchange("POST", "/payments", instruction.as_json(), instruction.key)

    # -- transport ------------------------------------------------------------------------------------------

    def _exchange(self, method: str, path: str, body: dict | None, key: str) -> _Answer:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base_url + path, data=data, method=method)
        request.add_header("Idempotency-Key", key)
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return self._interpret(response.status, response.read())
        except urllib.error.HTTPError as exc:
            return self._interpret(exc.code, exc.read() if exc.fp else b"")
        except (TimeoutError, ConnectionError, http.client.HTTPException, urllib.error.URLError) as exc:
            # Sent or not, booked or not: nobody knows. The next step asks the bank.
            log.info("bank gateway %s %s: no answer (%s)", method, key, type(exc).__name__)
            return _Answer("unknown", detail=f"{type(exc).__name__}")

    @staticmethod
    def _interpret(code: int, raw: bytes) -> _Answer:
        try:
            payload = json.loads(raw or b"{}")
        except ValueError:
            payload = {}
        status = payload.get("status") if isinstance(payload, dict) else None
        if code == 404:
            return _Answer("not_found")
        if code in (200, 201, 422) and status == "booked" and payload.get("reference"):
            return _Answer("final", GatewayOutcome("booked", bank_reference=str(payload["reference"])[:64]))
        if code in (200, 201, 422) and status == "refused":
            return _Answer("final", GatewayOutcome("refused", reason=str(payload.get("reason", ""))[:200]))
        if code in (200, 201, 202) and status == "pending":
            return _Answer("unknown", detail="pending")
        if code == 429 or code >= 500:
            return _Answer("unknown", detail=f"http {code}")
        raise GatewayError(f"bank answered HTTP {code}: {str(payload)[:200]}")


def gateway_from_settings() -> BankGateway | None:
    url = getattr(settings, "PAYOUT_GATEWAY_URL", "")
    if not url:
        return None
    return HttpBankGateway(
        url,
        timeout=float(getattr(settings, "PAYOUT_GATEWAY_TIMEOUT", 10)),
        max_attempts=int(getattr(settings, "PAYOUT_GATEWAY_MAX_ATTEMPTS", 4)),
        token=getattr(settings, "PAYOUT_GATEWAY_TOKEN", ""),
    )
