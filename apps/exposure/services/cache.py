"""Exposure cache: Django's cache (Redis in production) with a version key and a per-process fallback.

Every key embeds the current version token; `exposure_cache_invalidate()` replaces the token, so every
cached mix is orphaned at once (scoring runs, pin and experiment changes) without scanning keys.

When Redis is unreachable the engine keeps serving: reads and writes go to a small per-process LRU with
the same TTL, and a short circuit breaker stops each request from paying a connection timeout.
"""

import logging
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from django.core.cache import cache
from django_redis.exceptions import ConnectionInterrupted
from redis.exceptions import RedisError

from apps.exposure import metrics

logger = logging.getLogger("apps.exposure")

VERSION_KEY = "exposure:version"
BREAKER_SECONDS = 5.0
LOCAL_MAX_ENTRIES = 512
_CACHE_ERRORS = (ConnectionInterrupted, RedisError, OSError)


class _LocalLRU:
    """Thread-safe LRU with per-entry expiry (monotonic clock)."""

    def __init__(self, maxsize: int) -> None:
        self.maxsize = maxsize
        self._data: OrderedDict[str, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> Any:
        with self._lock:
            item = self._data.get(key)
            if item is None:
                return None
            expires, value = item
            if expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def set(self, key: str, value: Any, ttl: float) -> None:
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.maxsize:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


_local = _LocalLRU(LOCAL_MAX_ENTRIES)
# L1 in front of Redis: a mix read from Redis is kept in process memory for at most a second (keys embed
# the version, which is itself re-read at most once a second), so a hot page costs no round trip at all.
L1_SECONDS = 1.0
_l1 = _LocalLRU(LOCAL_MAX_ENTRIES)
_state: dict[str, Any] = {"down_until": 0.0, "local_version": uuid.uuid4().hex[:12], "memo": None}
# The version token is re-read from Redis at most this often per process: a cached mix then costs one
# Redis GET. Invalidation is immediate in the invalidating process and within this delay elsewhere.
VERSION_MEMO_SECONDS = 1.0


def _redis_available() -> bool:
    return time.monotonic() >= _state["down_until"]


def _trip(exc: BaseException) -> None:
    _state["down_until"] = time.monotonic() + BREAKER_SECONDS
    metrics.CACHE_EVENTS.labels(result="error").inc()
    logger.warning("exposure_cache_unavailable", extra={"error": type(exc).__name__})


def local_cache_reset() -> None:
    """Forget the fallback entries and close the circuit breaker (tests, Redis back up)."""
    _local.clear()
    _l1.clear()
    _state["down_until"] = 0.0
    _state["local_version"] = uuid.uuid4().hex[:12]
    _state["memo"] = None


def cache_version() -> tuple[str, bool]:
    """Current version token and whether it came from the fallback (Redis down)."""
    memo = _state["memo"]
    if not _redis_available():
        # Keep using the last token seen, so entries stored in the LRU when Redis failed are found.
        return (memo[0] if memo else "L" + _state["local_version"]), True
    if memo is not None and time.monotonic() - memo[1] < VERSION_MEMO_SECONDS:
        return memo[0], False
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            cache.add(VERSION_KEY, uuid.uuid4().hex[:12], None)
            version = cache.get(VERSION_KEY)
        if version is not None:
            _state["memo"] = (str(version), time.monotonic())
            return str(version), False
    except _CACHE_ERRORS as exc:
        _trip(exc)
    return (memo[0] if memo else "L" + _state["local_version"]), True


def cache_get(key: str, *, fallback: bool) -> Any:
    """Cached value or None; `fallback` reads the per-process LRU instead of Redis."""
    if not fallback:
        value = _l1.get(key)
        if value is not None:
            return value
        try:
            value = cache.get(key)
        except _CACHE_ERRORS as exc:
            _trip(exc)
            return _local.get(key)
        if value is not None:
            _l1.set(key, value, L1_SECONDS)
        return value
    return _local.get(key)


def cache_set(key: str, value: Any, *, ttl: int, fallback: bool) -> None:
    """Store a value for `ttl` seconds (Redis, or the LRU when Redis is down)."""
    if not fallback:
        try:
            cache.set(key, value, ttl)
            _l1.set(key, value, min(L1_SECONDS, ttl))
            return
        except _CACHE_ERRORS as exc:
            _trip(exc)
    _local.set(key, value, ttl)


def exposure_cache_invalidate() -> str:
    """Orphan every cached mix by replacing the version token; return the new token."""
    token = uuid.uuid4().hex[:12]
    _state["local_version"] = token
    _state["memo"] = None
    _local.clear()
    _l1.clear()
    if _redis_available():
        try:
            cache.set(VERSION_KEY, token, None)
            _state["memo"] = (token, time.monotonic())
        except _CACHE_ERRORS as exc:
            _trip(exc)
    return token
