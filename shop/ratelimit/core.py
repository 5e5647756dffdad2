"""Policies, decisions and the IETF RateLimit headers; the counting lives in `backends`."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from . import backends
from .metrics import RATELIMIT_DECISIONS


@dataclass(frozen=True, slots=True)
class Window:
    """One window of a policy after the check: `count` requests counted so far, resetting in `reset` s."""

    policy: str
    limit: int
    seconds: int
    count: int
    reset: int

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.count)

    @property
    def name(self) -> str:
        return f"{self.policy}/{self.seconds}s"


@dataclass(frozen=True, slots=True)
class Decision:
    """The outcome of a check over one or more policies (all their windows, atomically)."""

    allowed: bool
    retry_after: int
    limit: int
    remaining: int
    reset: int
    policy_header: str
    rate_header: str = ""
    windows: tuple[Window, ...] = field(default=())
    degraded: bool = False  # the backend was unreachable: allowed without counting (fail open)
    limited_by: tuple[str, ...] = ()  # the policies with a full window, when refused

    def headers(self) -> dict[str, str]:
        """`RateLimit-Policy`, `RateLimit` (IETF httpapi draft), and `Retry-After` when refused."""
        headers = {"RateLimit-Policy": self.policy_header}
        if self.rate_header:
            headers["RateLimit"] = self.rate_header
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
        return headers


def policy_windows(policy: str) -> list[tuple[int, int]]:
    """The (limit, window seconds) pairs of a policy (settings.RATE_LIMITS × RATELIMIT_MULTIPLIER)."""
    try:
        windows = settings.RATE_LIMITS[policy]
    except KeyError:
        raise ImproperlyConfigured(f"Unknown rate-limit policy {policy!r}; add it to settings.RATE_LIMITS.")
    scale = float(getattr(settings, "RATELIMIT_MULTIPLIER", 1.0) or 1.0)
    return [(max(1, int(limit * scale)), int(seconds)) for limit, seconds in windows]


def _key(policy: str, identity: str, seconds: int) -> str:
    # Long identities (tokens, user agents) are hashed so keys stay short; the braces keep every
    # window of one (policy, identity) in the same Redis Cluster slot, as the Lua script needs.
    if len(identity) > 64:
        identity = hashlib.blake2b(identity.encode(), digest_size=16).hexdigest()
    return f"rl:{{{policy}:{identity}}}:{seconds}"


def _policy_header(rules: Sequence[tuple[str, list[tuple[int, int]]]]) -> str:
    return ", ".join(
        f'"{policy}/{seconds}s";q={limit};w={seconds}'
        for policy, windows in rules
        for limit, seconds in windows
    )


def _tightness(window: Window) -> tuple[int, int]:
    return (window.remaining, -window.reset)


def ratelimit_check(policy: str, identity: str, *, cost: int = 1) -> Decision:
    """Count one request of `identity` against every window of `policy`; refuse if any window is full."""
    return ratelimit_check_many([(policy, identity)], cost=cost)


def ratelimit_check_many(rules: Iterable[tuple[str, str | None]], *, cost: int = 1) -> Decision:
    """Check several (policy, identity) pairs in one atomic step: all windows pass, or nothing is counted.

    Pairs whose identity is None are skipped (e.g. the per-customer policy for an anonymous caller).
    """
    resolved = [(policy, str(identity), policy_windows(policy)) for policy, identity in rules if identity]
    policy_header = _policy_header([(policy, windows) for policy, _, windows in resolved])
    if not resolved:
        return Decision(True, 0, 0, 0, 0, policy_header)
    specs = [
        (_key(policy, identity, seconds), limit, seconds)
        for policy, identity, windows in resolved
        for limit, seconds in windows
    ]
    result = backends.get_backend().hit(specs, cost)
    owners = [policy for policy, _, windows in resolved for _ in windows]
    if result is None:  # backend down: fail open, the caller keeps serving
        for policy, _, _ in resolved:
            RATELIMIT_DECISIONS.labels(policy=policy, outcome="failed_open").inc()
        limit, seconds = resolved[0][2][0]
        return Decision(True, 0, limit, limit, seconds, policy_header, degraded=True)

    allowed, states = result
    windows = tuple(
        Window(
            policy=owner, limit=limit, seconds=seconds, count=count, reset=max(1, math.ceil(ttl_ms / 1000))
        )
        for owner, (_, limit, seconds), (count, ttl_ms) in zip(owners, specs, states, strict=True)
    )
    # The binding window: fewest requests left; on a tie, the one that resets last.
    binding = min(windows, key=_tightness)
    full = [w for w in windows if w.count + cost > w.limit] if not allowed else []
    # Refused: wait until every full window has room again.
    retry_after = max(w.reset for w in full) if full else 0
    per_policy: dict[str, Window] = {}
    for window in windows:
        best = per_policy.get(window.policy)
        if best is None or _tightness(window) < _tightness(best):
            per_policy[window.policy] = window
    rate_header = ", ".join(f'"{w.name}";r={w.remaining};t={w.reset}' for w in per_policy.values())
    limited = tuple(dict.fromkeys(w.policy for w in full))
    # Refusals only: counting every allowed request would cost each request a metric write
    # (an mmap'd file under gunicorn's multiprocess mode) for a number the request rate already gives.
    for policy in limited:
        RATELIMIT_DECISIONS.labels(policy=policy, outcome="limited").inc()
    return Decision(
        allowed=bool(allowed),
        retry_after=retry_after,
        limit=binding.limit,
        remaining=binding.remaining,
        reset=binding.reset,
        policy_header=policy_header,
        rate_header=rate_header,
        windows=windows,
        limited_by=limited,
    )
