"""The child-process sandbox: results and exceptions come back; memory, CPU and time limits stop the child."""

import os
import time

import pytest

from subsidy.isolation import ChildCrashed, ChildStalled, LimitExceeded, Limits, reap_finished, run_isolated


def _pid_and_args(*args, **kwargs):
    return os.getpid(), args, kwargs


def test_result_comes_back_from_another_process():
    pid, args, kwargs = run_isolated(_pid_and_args, 1, b"x", key="v")
    assert pid != os.getpid()
    assert args == (1, b"x") and kwargs == {"key": "v"}


def _raise_value_error():
    raise ValueError("bad file")


def test_exception_is_raised_in_the_parent():
    with pytest.raises(ValueError, match="bad file"):
        run_isolated(_raise_value_error)


def _allocate(mb: int) -> int:
    return len(bytearray(mb * 1024 * 1024))  # one block: a new mapping, whatever the inherited heap holds


def test_memory_over_the_limit_is_refused_and_the_parent_is_unaffected():
    assert run_isolated(_allocate, 20, limits=Limits(memory_mb=64)) == 20 * 1024 * 1024
    with pytest.raises(LimitExceeded) as info:
        run_isolated(_allocate, 400, limits=Limits(memory_mb=64))
    assert info.value.what == "memory"


def _spin() -> None:
    while True:
        pass


def test_cpu_limit_stops_a_busy_child():
    started = time.monotonic()
    with pytest.raises(LimitExceeded) as info:
        run_isolated(_spin, limits=Limits(cpu_seconds=1, timeout=20))
    assert info.value.what == "cpu"
    assert time.monotonic() - started < 10


def test_wall_clock_limit_stops_a_child_held_back_and_says_so():
    started = time.monotonic()
    with pytest.raises(ChildStalled):  # not the file's fault: the caller retries or answers 503
        run_isolated(time.sleep, 30, limits=Limits(timeout=0.5))
    assert time.monotonic() - started < 5


def test_a_crashing_child_is_reported():
    with pytest.raises(ChildCrashed):
        run_isolated(os.abort)


def _write_file(path: str) -> None:
    with open(path, "wb") as f:
        f.write(b"x" * 10)


def test_the_child_cannot_write_files(tmp_path):
    with pytest.raises(OSError):
        run_isolated(_write_file, str(tmp_path / "f"))


def test_no_child_is_left_behind():
    for _ in range(5):
        run_isolated(len, b"abc")
    time.sleep(0.5)
    reap_finished()  # children that answered are collected at the next call, or here
    with pytest.raises(ChildProcessError):
        os.waitpid(-1, os.WNOHANG)
