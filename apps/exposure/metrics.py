"""Prometheus metrics of the exposure engine (exported at /metrics)."""

from prometheus_client import Counter, Gauge, Histogram

LATENCY = Histogram(
    "shop_exposure_latency_seconds",
    "Time to answer GET /exposure.",
    ["context", "cache"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
)
CACHE_EVENTS = Counter(
    "shop_exposure_cache_total",
    "Exposure cache lookups by result (hit, miss, fallback_hit, error).",
    ["result"],
)
ITEMS_SERVED = Counter("shop_exposure_items_served_total", "Slots served by reason.", ["reason"])
CTR_BY_POSITION = Gauge(
    "shop_exposure_ctr",
    "Click-through rate per mix position (updated by scoring and the report).",
    ["position"],
)
SCORING_DURATION = Histogram(
    "shop_scoring_duration_seconds",
    "Duration of a scoring run.",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60),
)
SCORING_EVENTS = Counter("shop_scoring_events_processed_total", "Engagement events folded into popularity.")
