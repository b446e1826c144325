"""Faults against a running deployment: workers killed, broker and cache gone, PostgreSQL restarted, disk full.

Every scenario asserts what must hold whatever breaks: no claim lost or doubled, no stored file without a claim,
every document read within two minutes of the service coming back, one payout per approved claim, and the budget
reconciled by `check_budget`. An infrastructure failure is a JSON 503 with a `code` and `Retry-After`, never a 500.

Runs in the PostgreSQL CI run (or with FAULT_TESTS=1); the scenarios share one stack and run in file order.
"""

from __future__ import annotations

import errno
import http.client
import io
import json
import os
import threading
import time
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests
from PIL import Image

from tests.claims.payouts.bank_simulator import BankSimulator
from tests.factories import claim_payload, document_files, program_document

from .stack import Stack, available

pytestmark = [pytest.mark.faults]

PROGRAM = "fault-car"
READ_WITHIN = 120.0  # seconds after the service is back
REVIEWER = ("fault-reviewer", "fault-pass-word-123")
FINANCE = (("fault-finance-1", "fault-pass-word-456"), ("fault-finance-2", "fault-pass-word-789"))


def _enabled() -> str | None:
    if os.environ.get("FAULT_TESTS") == "1" or os.environ.get("DATABASE_URL", "").startswith("postgres"):
        return available()
    return "fault tests run in the PostgreSQL run (DATABASE_URL=postgres://...) or with FAULT_TESTS=1"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    reason = _enabled()
    if reason:
        pytest.skip(reason)
    s = Stack(tmp_path_factory.mktemp("faults"))
    try:
        s.start()
        program = s.root / "program.json"
        program.write_text(json.dumps(program_document(PROGRAM, budget="5000000.00")))
        s.manage("load_program", str(program))
        s.manage("create_staff", REVIEWER[0], "--role", "reviewer", "--password", REVIEWER[1])
        for username, password in FINANCE:
            s.manage("create_staff", username, "--role", "finance", "--password", password)
        yield s
    except Exception:
        for name in ("web", "worker", "beat", "redis"):
            print(f"--- {name} log ---\n{s.log_tail(name)}")
        raise
    finally:
        s.stop()


def _files(pdf_invoice: bool = False) -> dict:
    files = {kind: (f.name, f.read(), "image/png") for kind, f in document_files().items()}
    if pdf_invoice:  # a scanned invoice as a PDF without a text layer: the worker renders it for OCR
        image = Image.open(io.BytesIO(files["invoice"][1]))
        out = io.BytesIO()
        image.convert("RGB").save(out, "PDF", resolution=72)
        files["invoice"] = ("invoice.pdf", out.getvalue(), "application/pdf")
    return files


class Submission:
    """One applicant's submission, retried with the same Idempotency-Key until it is answered."""

    def __init__(self, stack: Stack, pdf_invoice: bool = False):
        self.stack = stack
        self.payload = claim_payload(PROGRAM)
        self.files = _files(pdf_invoice)
        self.key = str(uuid.uuid4())
        self.answers: list[int] = []
        self.claim_number: str | None = None

    def post(self) -> requests.Response:
        return requests.post(
            self.stack.url("/api/v1/claims/"),
            data=self.payload,
            files=self.files,
            headers={"Idempotency-Key": self.key},
            timeout=60,
        )

    def until_accepted(self, timeout: float = 90.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                r = self.post()
            except requests.ConnectionError:
                self.answers.append(0)
                time.sleep(0.5)
                continue
            self.answers.append(r.status_code)
            if r.status_code in (200, 201):
                self.claim_number = r.json()["claim_number"]
                return self.claim_number
            _assert_unavailable(r)
            time.sleep(min(1.0, float(r.headers["Retry-After"])))
        raise AssertionError(f"not accepted within {timeout} s: {self.answers}")


def _assert_unavailable(r: requests.Response) -> None:
    """The only acceptable failure answer: JSON 503 with a code, a message and Retry-After."""
    assert r.status_code == 503, (r.status_code, r.text[:500])
    body = r.json()
    assert body["code"] == "service_unavailable" and body["message"], body
    assert int(r.headers["Retry-After"]) > 0


def _wait(predicate, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout:g} s")


def _all_read_within(stack: Stack, seconds: float) -> float:
    started = time.monotonic()
    try:
        _wait(lambda: stack.unread_documents() == 0, seconds, "every document read", interval=1)
    except AssertionError:
        print(stack.log_tail("worker"), stack.log_tail("beat"))
        raise
    return time.monotonic() - started


def _assert_consistent(stack: Stack, submissions: list[Submission]) -> None:
    """No claim lost or doubled, no file without a claim, the budget reconciled."""
    vins = [s.payload["vin"] for s in submissions]
    rows = stack.sql(
        f"SELECT vin, count(*) FROM {stack.t('claim')} WHERE vin = ANY(%s) GROUP BY vin", (vins,)
    )
    counts = dict(rows)
    assert all(counts.get(vin) == 1 for vin in vins), {v: counts.get(v) for v in vins if counts.get(v) != 1}
    numbers = {s.claim_number for s in submissions}
    assert None not in numbers and len(numbers) == len(submissions)
    orphans = stack.stored_files() - stack.referenced_files()
    assert not orphans, f"files without a claim: {sorted(orphans)[:10]}"
    budget = stack.check_budget(PROGRAM)
    assert budget.returncode == 0 and "OK" in budget.stdout, budget.stdout + budget.stderr


def _reading_states(stack: Stack) -> dict[str, int]:
    return dict(stack.sql(f"SELECT status, count(*) FROM {stack.t('reading')} GROUP BY status"))


# --- scenarios ------------------------------------------------------------------------------------------------


def test_an_oversized_body_is_refused_before_it_is_read(stack):
    """gunicorn hands the request over with its declared length; nothing of the body is read or spooled."""
    conn = http.client.HTTPConnection("127.0.0.1", stack.web_port, timeout=10)
    try:
        conn.putrequest("POST", "/api/v1/claims/")
        conn.putheader("Content-Type", "multipart/form-data; boundary=x")
        conn.putheader("Content-Length", "2000000000")
        conn.endheaders()  # and no body at all: the answer must come without it
        r = conn.getresponse()
        assert r.status == 413
        assert json.loads(r.read())["code"] == "request_too_large"
    finally:
        conn.close()


_approvable: list[str] = []


def test_worker_and_its_parent_killed_mid_ocr(stack):
    stack.kill("worker")  # a backlog builds up while no worker runs
    submissions = [Submission(stack, pdf_invoice=True) for _ in range(3)]
    for s in submissions:
        s.until_accepted()
    done_before = _reading_states(stack).get("done", 0)
    stack.start_worker("tesseract")
    _wait(lambda: _reading_states(stack).get("done", 0) >= done_before + 2, 60, "the worker reads", 0.1)
    assert stack.unread_documents() > 0, "the backlog was read before the kill: nothing was killed mid-OCR"
    stack.kill("worker")  # SIGKILL to the parent and every pool process: their messages stay unacknowledged
    stack.start_worker("tesseract")
    took = _all_read_within(stack, READ_WITHIN)
    print(f"all documents read {took:.1f} s after the worker came back")
    assert _reading_states(stack).get("done", 0) >= done_before + 15  # really read by the OCR engine
    _assert_consistent(stack, submissions)
    _approvable.extend(s.claim_number for s in submissions)
    stack.kill("worker")
    stack.start_worker()


def _token(stack: Stack, account: tuple[str, str] = REVIEWER) -> str:
    r = requests.post(
        stack.url("/api/v1/auth/token/"), json={"username": account[0], "password": account[1]}, timeout=30
    )
    assert r.status_code == 200, r.text
    return r.json()["token"]


def test_worker_killed_mid_payout(stack):
    assert _approvable, "needs the claims of the previous scenario"
    headers = {"Authorization": f"Token {_token(stack)}"}
    stack.kill("worker")
    for number in _approvable:
        r = requests.post(
            stack.url(f"/api/v1/staff/claims/{number}/approve/"),
            json={"note": "ok"},
            headers=headers,
            timeout=30,
        )
        assert r.status_code == 200, r.text
    payouts = stack.t("payout")
    claims = stack.t("claim")

    def payout_counts() -> dict[str, int]:
        return dict(
            stack.sql(
                f"SELECT c.claim_number, count(p.id) FROM {claims} c LEFT JOIN {payouts} p ON p.claim_id = c.id"
                " WHERE c.claim_number = ANY(%s) GROUP BY c.claim_number",
                (_approvable,),
            )
        )

    stack.start_worker()
    _wait(lambda: any(payout_counts().values()), 60, "a payout created", 0.05)
    stack.kill("worker")
    stack.start_worker()
    counts = _wait(
        lambda: (c := payout_counts()) and all(v >= 1 for v in c.values()) and c, 60, "every payout created"
    )
    time.sleep(2 * float(stack.env["PAYOUT_SWEEP_SECONDS"]))  # sweeps after completion create nothing more
    counts = payout_counts()
    assert set(counts) == set(_approvable) and set(counts.values()) == {1}, counts
    budget = stack.check_budget(PROGRAM)
    assert budget.returncode == 0, budget.stdout + budget.stderr


def test_worker_killed_while_the_bank_answers(stack):
    """Payouts through the bank's API: the worker dies after the bank booked a payment and before it recorded the
    answer. The sweep resumes by asking the bank under the same idempotency key: paid once, never sent twice."""
    bank = BankSimulator(delay=6.0).start()
    try:
        submissions = [Submission(stack) for _ in range(3)]
        for s in submissions:
            s.until_accepted()
        _wait(lambda: stack.unread_documents() == 0, READ_WITHIN, "documents read")
        stack.kill("worker")
        stack.env.update(PAYOUT_GATEWAY_URL=bank.url, PAYOUT_GATEWAY_TOKEN="fault-token")
        stack.start_worker()
        bank.post_modes.extend(["slow"] * 3)  # book, then answer six seconds later
        headers = {"Authorization": f"Token {_token(stack)}"}
        numbers = [s.claim_number for s in submissions]
        for number in numbers:
            r = requests.post(
                stack.url(f"/api/v1/staff/claims/{number}/approve/"),
                json={"note": "ok"},
                headers=headers,
                timeout=30,
            )
            assert r.status_code == 200, r.text
        # Nothing is sent before two finance users have made and approved a batch.
        time.sleep(2 * float(stack.env["PAYOUT_SWEEP_SECONDS"]))
        assert not bank.booked_count, bank.booked_count
        maker, checker = ({"Authorization": f"Token {_token(stack, account)}"} for account in FINANCE)
        r = requests.post(stack.url("/api/v1/staff/payout-batches/"), json={}, headers=maker, timeout=30)
        assert r.status_code == 201, r.text
        batch = r.json()["id"]
        r = requests.post(
            stack.url(f"/api/v1/staff/payout-batches/{batch}/approve/"), headers=checker, timeout=30
        )
        assert r.status_code == 200, r.text
        _wait(lambda: sum(bank.booked_count.values()) >= 1, 60, "the bank booked a payment", 0.05)
        stack.kill("worker")  # the bank's answer is never read
        stack.start_worker()

        def statuses() -> dict[str, str]:
            return dict(
                stack.sql(
                    f"SELECT claim_number, status FROM {stack.t('claim')} WHERE claim_number = ANY(%s)",
                    (numbers,),
                )
            )

        _wait(lambda: set(statuses().values()) == {"paid"}, 90, "every claim paid", 1)
        # Every payment the bank booked was booked once (the batch holds the earlier scenario's pending payouts
        # too: they are sent through the gateway as well).
        assert set(bank.booked_count.values()) == {1}, bank.booked_count
        ids = stack.sql(
            f"SELECT p.id FROM {stack.t('payout')} p JOIN {stack.t('claim')} c ON p.claim_id = c.id"
            " WHERE c.claim_number = ANY(%s)",
            (numbers,),
        )
        assert {f"payout-{pk}" for (pk,) in ids} <= set(bank.booked_count)
        payouts = dict(
            stack.sql(
                f"SELECT c.claim_number, count(p.id) FROM {stack.t('claim')} c JOIN {stack.t('payout')} p"
                " ON p.claim_id = c.id WHERE c.claim_number = ANY(%s) GROUP BY c.claim_number",
                (numbers,),
            )
        )
        assert payouts == dict.fromkeys(numbers, 1), payouts
        _assert_consistent(stack, submissions)
    finally:
        stack.env.pop("PAYOUT_GATEWAY_URL", None)
        stack.kill("worker")
        stack.start_worker()
        bank.stop()


def test_broker_and_cache_down_during_submissions(stack):
    stack.stop_redis()
    submissions = [Submission(stack) for _ in range(4)]
    for s in submissions:
        started = time.monotonic()
        r = s.post()
        assert r.status_code == 201, (r.status_code, r.text[:500])
        assert time.monotonic() - started < 15, "a submission waited too long for the broker"
        s.claim_number = r.json()["claim_number"]
        lookup = requests.post(
            stack.url("/api/v1/claims/lookup/"),
            json={"claim_number": s.claim_number, "id_number": s.payload["id_number"]},
            timeout=30,
        )
        assert lookup.status_code == 200, lookup.text  # rate limits fell back to the process
    health = requests.get(stack.url("/healthz"), timeout=30)
    assert health.status_code == 503 and health.json()["broker"] != "ok"
    assert stack.unread_documents() >= 20
    stack.start_redis()  # empty: every message queued before the outage is gone too
    took = _all_read_within(stack, READ_WITHIN)
    print(f"all documents read {took:.1f} s after the broker came back")
    _assert_consistent(stack, submissions)


def test_postgres_restarted_during_a_burst(stack):
    submissions = [Submission(stack) for _ in range(40)]
    errors: list[BaseException] = []
    abandon = threading.Event()
    abandoned: list[Submission] = []  # answered 503 once and never retried: must leave nothing behind

    def run(batch: list[Submission]) -> None:
        try:
            for s in batch:
                s.until_accepted(timeout=120)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def one_shots() -> None:
        while not abandon.is_set():
            s = Submission(stack)
            try:
                r = s.post()
            except requests.ConnectionError:
                abandoned.append(s)
                continue
            if r.status_code == 201:
                s.claim_number = r.json()["claim_number"]
                submissions.append(s)
            else:
                _assert_unavailable(r)
                abandoned.append(s)
                time.sleep(0.2)

    threads = [threading.Thread(target=run, args=(submissions[i::6],)) for i in range(6)]
    shooters = [threading.Thread(target=one_shots) for _ in range(3)]
    for t in threads + shooters:
        t.start()
    _wait(lambda: sum(1 for s in submissions if s.answers) >= 8, 60, "the burst started", 0.05)
    stack.stop_postgres("fast")
    time.sleep(2)
    stack.start_postgres()
    back = time.monotonic()
    time.sleep(1)
    abandon.set()
    for t in threads + shooters:
        t.join(timeout=180)
    assert not errors, errors[:3]
    answers = [a for s in submissions for a in s.answers]
    assert 500 not in answers
    print(
        f"answers during the burst: { {a: answers.count(a) for a in set(answers)} }; abandoned: {len(abandoned)}"
    )
    took = _all_read_within(stack, READ_WITHIN - (time.monotonic() - back))
    print(
        f"all documents read {time.monotonic() - back:.1f} s after PostgreSQL came back ({took:.1f} s wait)"
    )
    _assert_consistent(stack, submissions)


def test_database_lost_while_a_submission_waits_leaves_no_files(stack):
    """The files of a submission are stored before its transaction; when the database dies during that
    transaction, the clean-up cannot ask it which files are in use, and must still remove them."""
    lock = psycopg2.connect(host="127.0.0.1", port=stack.pg_port, user="postgres", dbname="subsidy")
    with lock.cursor() as cur:  # hold the program row: the submissions wait for it with their files stored
        cur.execute(f"SELECT id FROM {stack.t('program')} WHERE code = %s FOR UPDATE", (PROGRAM,))
    before = stack.stored_files()
    waiting = [Submission(stack) for _ in range(3)]
    answers: list[requests.Response | Exception] = []

    def post(s: Submission) -> None:
        try:
            answers.append(s.post())
        except requests.RequestException as exc:
            answers.append(exc)

    threads = [threading.Thread(target=post, args=(s,)) for s in waiting]
    for t in threads:
        t.start()
    _wait(lambda: len(stack.stored_files() - before) >= 15, 30, "the waiting submissions stored their files")
    stack.stop_postgres("fast")
    for t in threads:
        t.join(timeout=60)
    lock.close()
    stack.start_postgres()
    assert len(answers) == 3
    for r in answers:
        assert isinstance(r, requests.Response), r
        _assert_unavailable(r)
    orphans = stack.stored_files() - stack.referenced_files()
    assert not orphans, f"files of the failed submissions left on disk: {sorted(orphans)}"
    for s in waiting:  # the applicants retry later: accepted, once
        s.until_accepted()
    _assert_consistent(stack, waiting)


def _fill(directory: Path, leave: int) -> Path:
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as f:  # unbuffered: nothing left to write at close
        for block in (1 << 20, 4096):
            try:
                while f.write(b"\0" * block):
                    pass
            except OSError as exc:
                assert exc.errno == errno.ENOSPC
    os.truncate(filler, max(0, filler.stat().st_size - leave))
    return filler


def test_disk_full_or_read_only(stack):
    if not stack.tmpfs:
        pytest.skip("cannot mount a tmpfs for the documents here (needs root)")
    full = Submission(stack)
    filler = _fill(stack.documents, leave=8 * 1024)
    try:
        for _ in range(2):
            _assert_unavailable(full.post())
        assert not (stack.stored_files() - stack.referenced_files()), "a failed submission left files"
    finally:
        filler.unlink()
    full.until_accepted()
    read_only = Submission(stack)
    stack.remount_documents("ro")
    try:
        _assert_unavailable(read_only.post())
    finally:
        stack.remount_documents("rw")
    read_only.until_accepted()
    _all_read_within(stack, READ_WITHIN)
    _assert_consistent(stack, [full, read_only])
