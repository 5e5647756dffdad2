"""Counting backends: Redis (atomic Lua script, shared by every process) and in-process (embedded mode).

`get_backend()` resolves the backend from settings at call time: RATELIMIT_REDIS_URL, else the test
settings' TEST_REDIS_URL, else REDIS_URL; with none of them, an in-process limiter (per process — fine for
the single-process embedded mode, not for a multi-worker deploy, which always has Redis).
RATELIMIT_SOCKET_TIMEOUT (optional, default 0.25 s) bounds each Redis call before failing open.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Protocol

import redis
from django.conf import settings

from .metrics import RATELIMIT_BACKEND_ERRORS

logger = logging.getLogger("shop.ratelimit")

# (key, limit, window seconds) per window; result: allowed, [(count, ttl ms)] per window, or None if down.
WindowSpec = tuple[str, int, int]
HitResult = tuple[bool, list[tuple[int, int]]] | None

# Every window is checked before any is incremented, so a refused request consumes no quota and the
# check-and-count of all windows is one atomic step (no race between concurrent requests).
LUA_HIT = """
local cost = tonumber(ARGV[1])
local allowed = 1
local counts, ttls, fresh = {}, {}, {}
for i = 1, #KEYS do
  local window = tonumber(ARGV[2 * i + 1])
  local ttl = redis.call('PTTL', KEYS[i])
  if ttl < 0 then
    -- missing (-2), or somehow without expiry (-1): start a fresh window
    counts[i], ttls[i], fresh[i] = 0, window, true
  else
    counts[i], ttls[i], fresh[i] = tonumber(redis.call('GET', KEYS[i]) or '0'), ttl, false
  end
  if counts[i] + cost > tonumber(ARGV[2 * i]) then allowed = 0 end
end
if allowed == 1 then
  for i = 1, #KEYS do
    if fresh[i] then
      redis.call('SET', KEYS[i], cost, 'PX', tonumber(ARGV[2 * i + 1]))
      counts[i] = cost
    else
      counts[i] = redis.call('INCRBY', KEYS[i], cost)
    end
  end
end
local out = {allowed}
for i = 1, #KEYS do
  out[#out + 1] = counts[i]
  out[#out + 1] = ttls[i]
end
return out
"""

# After a failure, skip the backend for this long (each attempt against a dead host costs a timeout),
# and log the outage at most once per LOG_INTERVAL.
RETRY_INTERVAL = 1.0
LOG_INTERVAL = 60.0


class Backend(Protocol):
    name: str

    def hit(self, specs: Sequence[WindowSpec], cost: int) -> HitResult: ...


class RedisBackend:
    """Fixed windows anchored at each counter's first hit, all windows of a call in one EVALSHA."""

    name = "redis"

    def __init__(self, url: str) -> None:
        self.url = url
        # A slow Redis must not stall the requests it guards: past the timeout the check fails open.
        timeout = float(getattr(settings, "RATELIMIT_SOCKET_TIMEOUT", 0.25))
        # A blocking pool: more threads than connections wait (up to the timeout) instead of erroring.
        pool = redis.BlockingConnectionPool.from_url(
            url,
            max_connections=64,
            timeout=timeout,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            health_check_interval=30,
        )
        self.client = redis.Redis(connection_pool=pool)
        self.script = self.client.register_script(LUA_HIT)
        self._down_until = 0.0
        self._logged_at = -LOG_INTERVAL

    def hit(self, specs: Sequence[WindowSpec], cost: int) -> HitResult:
        now = time.monotonic()
        if now < self._down_until:
            RATELIMIT_BACKEND_ERRORS.labels(backend=self.name).inc()
            return None
        args: list[int] = [cost]
        for _, limit, seconds in specs:
            args += [limit, seconds * 1000]
        try:
            raw = self.script(keys=[key for key, _, _ in specs], args=args)
        except redis.RedisError as exc:
            self._down_until = now + RETRY_INTERVAL
            RATELIMIT_BACKEND_ERRORS.labels(backend=self.name).inc()
            if now - self._logged_at >= LOG_INTERVAL:
                self._logged_at = now
                logger.warning("ratelimit_backend_down", extra={"error": repr(exc), "fail_open": True})
            return None
        states = [(int(raw[i]), int(raw[i + 1])) for i in range(1, len(raw), 2)]
        return bool(raw[0]), states


class MemoryBackend:
    """The same semantics in process memory, for the embedded mode without Redis."""

    name = "memory"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counters: dict[str, tuple[int, float]] = {}  # key → (count, expires at, monotonic)
        self._calls = 0

    def hit(self, specs: Sequence[WindowSpec], cost: int) -> HitResult:
        now = time.monotonic()
        with self._lock:
            self._calls += 1
            if self._calls % 1000 == 0:
                self._counters = {k: v for k, v in self._counters.items() if v[1] > now}
            current = []
            for key, limit, seconds in specs:
                count, expires = self._counters.get(key, (0, 0.0))
                if expires <= now:
                    count, expires = 0, now + seconds
                current.append((key, count, expires, limit))
            allowed = all(count + cost <= limit for _, count, _, limit in current)
            states = []
            for key, count, expires, _ in current:
                if allowed:
                    count += cost
                    self._counters[key] = (count, expires)
                states.append((count, int((expires - now) * 1000)))
            return allowed, states

    def clear(self) -> None:
        with self._lock:
            self._counters.clear()


_lock = threading.Lock()
_redis_backends: dict[str, RedisBackend] = {}
_memory_backend = MemoryBackend()


def backend_url() -> str:
    """The Redis URL the limiter uses now ('' → in-process)."""
    return (
        getattr(settings, "RATELIMIT_REDIS_URL", "")
        or getattr(settings, "TEST_REDIS_URL", "")
        or getattr(settings, "REDIS_URL", "")
    )


def get_backend() -> Backend:
    """The backend for the current settings; Redis clients are made once per URL and process."""
    url = backend_url()
    if not url:
        return _memory_backend
    backend = _redis_backends.get(url)
    if backend is None:
        with _lock:
            backend = _redis_backends.setdefault(url, RedisBackend(url))
    return backend


def reset_backends() -> None:
    """Forget clients, outage state and in-process counters (tests, after a fork)."""
    with _lock:
        for backend in _redis_backends.values():
            backend.client.close()
        _redis_backends.clear()
        _memory_backend.clear()
