"""Caches that keep the site up when their store is not: rate limits then count per process.

The cache holds rate-limit counters and short-lived locks, nothing that is the only copy of anything. When Redis
does not answer (it may be the broker's server, down with it), or the file cache's disk is full or read-only,
every call falls back to a per-process memory cache, logged once a minute, and the store is tried again a few
seconds later. Submissions, look-ups and logins therefore never fail for a cache outage; their limits hold per
process meanwhile (fail open, not unlimited).
"""

from __future__ import annotations

import functools
import logging
import threading
import time

import redis.exceptions
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.redis import RedisCache

__all__ = ["ResilientFileBasedCache", "ResilientRedisCache"]

logger = logging.getLogger(__name__)

_UNAVAILABLE = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError, OSError)
RETRY_SECONDS = 5.0
LOG_EVERY_SECONDS = 60.0

_OPERATIONS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


class _Fallback:
    """Per-process fallback state shared by the resilient caches."""

    def _init_fallback(self) -> None:
        self._fallback = LocMemCache(f"fallback-{id(self)}", {"OPTIONS": {"MAX_ENTRIES": 10000}})
        self._down_until = 0.0
        self._last_log = 0.0
        self._state_lock = threading.Lock()

    def _use_fallback(self) -> bool:
        return time.monotonic() < self._down_until

    def _mark_down(self, exc: BaseException) -> None:
        now = time.monotonic()
        with self._state_lock:
            self._down_until = now + RETRY_SECONDS
            if now - self._last_log >= LOG_EVERY_SECONDS:
                self._last_log = now
                logger.warning(
                    "cache unavailable (%s: %s): rate limits and locks are per process until it answers",
                    type(exc).__name__,
                    exc,
                )


class ResilientRedisCache(_Fallback, RedisCache):
    """Django's Redis cache; on a connection failure, the same call on a per-process fallback cache."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        # A cache that does not answer within a second is treated as down, rather than holding the request.
        options.setdefault("socket_connect_timeout", 1)
        options.setdefault("socket_timeout", 1)
        super().__init__(server, {**params, "OPTIONS": options})
        self._init_fallback()


class ResilientFileBasedCache(_Fallback, FileBasedCache):
    """Django's file cache (shared by the processes of one machine); on a disk error, the per-process fallback."""

    def __init__(self, directory, params):
        self._init_fallback()
        try:
            super().__init__(directory, params)  # creates the folder
        except OSError as exc:
            self._mark_down(exc)


def _resilient(base: type, name: str):
    original = getattr(base, name)

    @functools.wraps(original)
    def method(self, *args, **kwargs):
        if not self._use_fallback():
            try:
                return original(self, *args, **kwargs)
            except _UNAVAILABLE as exc:
                self._mark_down(exc)
        return getattr(self._fallback, name)(*args, **kwargs)

    return method


for _cls, _base in ((ResilientRedisCache, RedisCache), (ResilientFileBasedCache, FileBasedCache)):
    for _name in _OPERATIONS:
        if hasattr(_base, _name):
            setattr(_cls, _name, _resilient(_base, _name))
