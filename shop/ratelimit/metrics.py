"""Prometheus counters of the rate limiter."""

from prometheus_client import Counter

RATELIMIT_DECISIONS = Counter(
    "shop_ratelimit_decisions_total",
    "Rate-limit refusals by policy: limited, or failed_open (allowed because the backend was unreachable).",
    ["policy", "outcome"],
)
RATELIMIT_BACKEND_ERRORS = Counter(
    "shop_ratelimit_backend_errors_total",
    "Rate-limit checks that could not reach their backend (the request was let through).",
    ["backend"],
)
