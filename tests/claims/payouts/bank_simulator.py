"""A small bank payment API on 127.0.0.1 for the gateway tests (protocol in claims/services/gateway.py).

It honours idempotency keys like a real bank (a key is booked at most once) and records every request, so tests
can check both "booked exactly once" and "never sent blindly after an unknown outcome". Each POST can be told to
misbehave: `slow` (book, then answer after `delay` seconds), `refuse`, `drop_after_book` (book, then close the
connection without answering), `drop_before_book`, `error_500` (no booking), `error_500_after_book`, `pending`
(accept, book later on the next status query). Status queries can be told to `drop` or `error_500`.
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class BankSimulator:
    def __init__(self, delay: float = 1.0):
        self.delay = delay
        self.bookings: dict[str, dict] = {}  # key -> {"status", "reference", "amount", "account"}
        self.booked_count: Counter = Counter()  # times each key was booked (must never exceed 1)
        self.posts: Counter = Counter()
        self.gets: Counter = Counter()
        self.log: list[tuple[str, str]] = []
        self.post_modes: deque[str] = deque()
        self.get_modes: deque[str] = deque()
        self.refuse_accounts: set[str] = set()
        self._refs = itertools.count(1)
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> BankSimulator:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _book(self, key: str, body: dict, status: str = "booked") -> dict:
        with self._lock:
            if key in self.bookings:
                return self.bookings[key]
            if body.get("account_number") in self.refuse_accounts:
                status = "refused"
            entry = {"status": status, "amount": body.get("amount"), "account": body.get("account_number")}
            if status == "booked":
                entry["reference"] = f"SIM{next(self._refs):08d}"
                self.booked_count[key] += 1
            else:
                entry["reason"] = "户名与账号不符" if status == "refused" else ""
            self.bookings[key] = entry
            return entry

    def _handler(self):
        sim = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def _answer(self, code: int, payload: dict) -> None:
                raw = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _drop(self) -> None:
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

            @staticmethod
            def _public(entry: dict) -> dict:
                return {k: v for k, v in entry.items() if k in ("status", "reference", "reason")}

            def do_POST(self):
                length = int(self.headers.get("Content-Length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                key = self.headers.get("Idempotency-Key", "")
                sim.posts[key] += 1
                sim.log.append(("POST", key))
                mode = sim.post_modes.popleft() if sim.post_modes else "ok"
                if mode == "drop_before_book":
                    return self._drop()
                if mode == "error_500":
                    return self._answer(500, {"error": "internal"})
                if mode == "refuse":
                    entry = sim._book(key, body, status="refused")
                    return self._answer(200, self._public(entry))
                if mode == "pending":
                    with sim._lock:
                        sim.bookings.setdefault(key, {"status": "pending", "body": body})
                    return self._answer(202, {"status": "pending"})
                entry = sim._book(key, body)
                if mode == "drop_after_book":
                    return self._drop()
                if mode == "error_500_after_book":
                    return self._answer(500, {"error": "internal"})
                if mode == "slow":
                    time.sleep(sim.delay)
                return self._answer(200, self._public(entry))

            def do_GET(self):
                key = self.path.rsplit("/", 1)[-1]
                sim.gets[key] += 1
                sim.log.append(("GET", key))
                mode = sim.get_modes.popleft() if sim.get_modes else "ok"
                if mode == "drop":
                    return self._drop()
                if mode == "error_500":
                    return self._answer(500, {"error": "internal"})
                entry = sim.bookings.get(key)
                if entry is None:
                    return self._answer(404, {"status": "not_found"})
                if entry["status"] == "pending":  # settles on the first status query after acceptance
                    with sim._lock:
                        del sim.bookings[key]
                    entry = sim._book(key, entry["body"])
                return self._answer(200, self._public(entry))

        return Handler
