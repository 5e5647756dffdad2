"""Multi-window rate limiting, atomic in Redis (one Lua EVALSHA per check), in-process without Redis.

    from shop.ratelimit import ratelimit_check
    decision = ratelimit_check("events:ip", "203.0.113.7")   # policies: settings.RATE_LIMITS

DRF views use `RateLimitMixin` (class attribute `ratelimit_rules`) or the `rate_limit(...)` method
decorator; both answer 429 `rate_limited` with `Retry-After`, and set `RateLimit-Policy` / `RateLimit`
(draft-ietf-httpapi-ratelimit-headers) on allowed and refused responses. When Redis is unreachable the
check fails open (counted in `shop_ratelimit_backend_errors_total`, logged once a minute).
"""

from .backends import get_backend, reset_backends
from .core import Decision, Window, policy_windows, ratelimit_check, ratelimit_check_many
from .drf import (
    RateLimitExceeded,
    RateLimitMixin,
    apply_headers,
    client_ip,
    rate_limit,
    ratelimit_enforce,
    user_identity,
)

__all__ = [
    "Decision",
    "RateLimitExceeded",
    "RateLimitMixin",
    "Window",
    "apply_headers",
    "client_ip",
    "get_backend",
    "policy_windows",
    "rate_limit",
    "ratelimit_check",
    "ratelimit_check_many",
    "ratelimit_enforce",
    "reset_backends",
    "user_identity",
]
