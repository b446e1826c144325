"""Run a parsing function in a forked child process under hard memory, CPU and wall-clock limits.

Uploaded documents are decoded by C libraries (PDFium, Pillow's codecs) whose memory and time depend on the file,
not on its size: a 1 MB PDF can ask for gigabytes. Each such call runs in a child forked for the one call, with

- ``RLIMIT_AS``: the child's address space may grow by at most ``memory_mb`` over what the parent had mapped at the
  fork (the inherited pages are shared copy-on-write and cost nothing extra);
- ``RLIMIT_CPU``: at most ``cpu_seconds`` of CPU time, then the kernel stops it;
- a wall-clock ``timeout`` after which the parent kills it;
- no core files (they would hold personal data) and no file writes.

The child sends back the function's return value or its exception (pickled, through a pipe) and ends with
``os._exit``: it never runs the parent's clean-up (database connections, atexit handlers), so nothing the parent
holds is touched. Forking per call needs no pool to manage and works the same in gunicorn workers, Celery prefork
children (which may not start ``multiprocessing`` children) and the development server; it costs a few
milliseconds (``bench/hostile_documents.py`` prints the figure).

The memory limit bounds the address space the child adds; pages the parent had mapped but freed (its malloc heap)
can be reused by the child on top of it. Parents here are web and worker processes that never parse documents
themselves, so that slack stays small.

Whatever a child needs must be imported in the parent before the fork (a module another thread was importing at
the fork would stay locked in the child): callers import their libraries at module level and initialise Pillow's
plugins (`Image.init()`). A child still running at its wall-clock limit without having reached its CPU limit was
held back by the machine (overloaded, or blocked), not by the file: that is ChildStalled, worth a retry, never a
refusal of the file; the work a file may cost is bounded by the CPU and memory limits.

Where ``os.fork`` does not exist, or ``DOCUMENT_ISOLATION`` is off, the function runs in the calling process
under a process-wide lock (PDFium is not thread-safe).
"""

from __future__ import annotations

import faulthandler
import logging
import os
import pickle
import resource
import select
import signal
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings

__all__ = [
    "ChildCrashed",
    "ChildStalled",
    "IsolationError",
    "LimitExceeded",
    "Limits",
    "in_process_lock",
    "reap_finished",
    "run_isolated",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Serialises in-process use of the C libraries when isolation is off (PDFium is not thread-safe).
in_process_lock = threading.RLock()

# Children that answered and are still exiting: reaped later, so the caller does not wait for their teardown.
_unreaped: set[int] = set()
_unreaped_lock = threading.Lock()

_EXIT_OK = 0
_EXIT_UNSENDABLE = 70
_HEADER = 8  # bytes of big-endian payload length before the pickled payload


class IsolationError(Exception):
    """The isolated call did not return a result."""


class LimitExceeded(IsolationError):
    """The child went over a limit: ``what`` is ``memory`` or ``cpu``."""

    def __init__(self, what: str, detail: str = ""):
        super().__init__(f"isolated call over its {what} limit{': ' + detail if detail else ''}")
        self.what = what


class ChildCrashed(IsolationError):
    """The child died without answering (a crash in a C library, typically an allocation that failed)."""


class ChildStalled(IsolationError):
    """The child hit its wall-clock limit before its CPU limit: the machine's fault, not the file's; retry."""


class _RemoteError(IsolationError):
    """An exception of the child that could not be sent back as itself."""


class Limits:
    """Limits for one isolated call; ``None`` takes the project's settings (or the defaults outside Django)."""

    DEFAULT_MEMORY_MB = 256
    DEFAULT_CPU_SECONDS = 20
    DEFAULT_TIMEOUT = 30.0

    def __init__(
        self, memory_mb: int | None = None, cpu_seconds: int | None = None, timeout: float | None = None
    ):
        configured = _configured()
        self.memory_mb = int(memory_mb or configured.get("memory_mb") or self.DEFAULT_MEMORY_MB)
        self.cpu_seconds = int(cpu_seconds or configured.get("cpu_seconds") or self.DEFAULT_CPU_SECONDS)
        self.timeout = float(timeout or configured.get("timeout") or self.DEFAULT_TIMEOUT)


def _configured() -> dict:
    """The project's settings for the limits; none when used outside Django (bench scripts, a library)."""
    if not settings.configured:
        return {}
    return {
        "memory_mb": getattr(settings, "DOCUMENT_MEMORY_LIMIT_MB", None),
        "cpu_seconds": getattr(settings, "DOCUMENT_CPU_LIMIT_SECONDS", None),
        "timeout": getattr(settings, "DOCUMENT_TIME_LIMIT_SECONDS", None),
        "enabled": getattr(settings, "DOCUMENT_ISOLATION", True),
    }


def isolation_enabled() -> bool:
    return hasattr(os, "fork") and _configured().get("enabled", True) is not False


def run_isolated(func: Callable[..., T], /, *args: Any, limits: Limits | None = None, **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in a child process under ``limits``; its result, or its exception re-raised.

    Raises LimitExceeded when the child went over its memory, CPU or wall-clock limit, ChildCrashed when it died
    without an answer. Arguments need not be picklable (the child inherits them); the result and exceptions must.
    """
    limits = limits or Limits()
    if not isolation_enabled():
        with in_process_lock:
            return func(*args, **kwargs)
    reap_finished()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns
        os.close(read_fd)
        _child(write_fd, limits, func, args, kwargs)
    os.close(write_fd)
    return _parent(pid, read_fd, limits)


# --- child ----------------------------------------------------------------------------------------------------


def _address_space_in_use() -> int | None:
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _apply_limits(limits: Limits) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # CPU time of a new process starts at zero; the hard limit one second later kills it if SIGXCPU is ignored.
    resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 1))
    in_use = _address_space_in_use()
    if in_use is not None:
        cap = in_use + limits.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write to a file fails instead of killing the child
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))


def _reset_signals() -> None:
    """The parent's handlers (gunicorn's, Celery's) must not run in the child."""
    faulthandler.disable()  # a C library that gives up is an expected outcome here, not a crash to dump
    signal.setitimer(signal.ITIMER_REAL, 0)
    for name in (
        "SIGTERM",
        "SIGINT",
        "SIGHUP",
        "SIGQUIT",
        "SIGUSR1",
        "SIGUSR2",
        "SIGALRM",
        "SIGCHLD",
        "SIGXCPU",
    ):
        sig = getattr(signal, name, None)
        if sig is not None:
            try:
                signal.signal(sig, signal.SIG_DFL)
            except (OSError, ValueError):
                pass


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _encode(outcome: tuple) -> bytes:
    payload = pickle.dumps(outcome, protocol=pickle.HIGHEST_PROTOCOL)
    return len(payload).to_bytes(_HEADER, "big") + payload


def _child(write_fd: int, limits: Limits, func: Callable, args: tuple, kwargs: dict) -> None:
    code = _EXIT_UNSENDABLE
    try:
        _reset_signals()
        _apply_limits(limits)
        try:
            outcome: tuple = ("ok", func(*args, **kwargs))
        except MemoryError:
            outcome = ("limit", "memory")
        except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
            outcome = ("error", exc)
        try:
            data = _encode(outcome)
            if outcome[0] == "error":
                pickle.loads(data[_HEADER:])  # an exception that does not survive the trip is sent as text
        except MemoryError:
            data = _encode(("limit", "memory"))
        except Exception:  # noqa: BLE001
            exc = outcome[1]
            detail = f"{type(exc).__name__}: {exc}" if outcome[0] == "error" else "unpicklable result"
            data = _encode(("remote", detail[:2000]))
        _write_all(write_fd, data)
        code = _EXIT_OK
    except BaseException:  # noqa: BLE001 - the parent reports a child without an answer
        pass
    finally:
        os._exit(code)


# --- parent ---------------------------------------------------------------------------------------------------


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _reap(pid: int, block: bool = True) -> int | None:
    """The child's wait status; None when something else already reaped it, or (not blocking) it still runs."""
    status, _cpu = _reap_with_cpu(pid, block)
    return status


def _reap_with_cpu(pid: int, block: bool = True) -> tuple[int | None, float]:
    """(wait status, CPU seconds the child used); (None, 0.0) when not reaped."""
    while True:
        try:
            done, status, usage = os.wait4(pid, 0 if block else os.WNOHANG)
            if not done:
                return None, 0.0
            return status, usage.ru_utime + usage.ru_stime
        except InterruptedError:
            continue
        except ChildProcessError:
            return None, 0.0


def reap_finished() -> None:
    """Collect the exit status of children that already answered (they only had to exit)."""
    with _unreaped_lock:
        pids = list(_unreaped)
    for pid in pids:
        try:
            done, _status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            done = pid
        if done:
            with _unreaped_lock:
                _unreaped.discard(pid)


def _complete(data: bytes) -> bool:
    return len(data) >= _HEADER and len(data) == _HEADER + int.from_bytes(data[:_HEADER], "big")


def _parent(pid: int, read_fd: int, limits: Limits) -> Any:
    chunks: list[bytes] = []
    timed_out = False
    status: int | None = None
    deadline = time.monotonic() + limits.timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _w, _x = select.select([read_fd], [], [], min(remaining, 1.0))
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    except BaseException:  # e.g. a soft time limit raised while waiting: never leave the child behind
        os.close(read_fd)
        _kill(pid)
        _reap(pid)
        raise
    os.close(read_fd)
    data = b"".join(chunks)
    if timed_out:
        _kill(pid)
        _status, cpu = _reap_with_cpu(pid)
        raise ChildStalled(f"no answer within {limits.timeout:g} s ({cpu:.2f} s of CPU used)")
    if _complete(data):
        # The answer is all there: the child is only exiting; collect it now if done, else at a later call.
        if _reap(pid, block=False) is None:
            with _unreaped_lock:
                _unreaped.add(pid)
        status = None
    else:
        status = _reap(pid)
    if status is not None and os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig in (signal.SIGXCPU, signal.SIGKILL) and not data:
            raise LimitExceeded("cpu", f"{limits.cpu_seconds} s")
        if not data:
            raise ChildCrashed(f"child died of signal {signal.Signals(sig).name}")
    if not _complete(data):
        raise ChildCrashed("child ended without a complete answer")
    kind, value = pickle.loads(data[_HEADER:])  # noqa: S301 - our own child wrote it
    if kind == "ok":
        return value
    if kind == "limit":
        raise LimitExceeded(value, f"{limits.memory_mb} MB" if value == "memory" else "")
    if kind == "remote":
        raise _RemoteError(value)
    raise value
