"""Prometheus metrics of event ingestion (`/metrics`)."""

from prometheus_client import Counter, Histogram

EVENTS_ACCEPTED = Counter("engagement_events_accepted_total", "Events stored.", ["type"])
EVENTS_DUPLICATE = Counter(
    "engagement_events_duplicate_total", "Events already stored (same event_id), ignored.", ["type"]
)
EVENTS_REJECTED = Counter(
    "engagement_events_rejected_total",
    "Events refused one by one (type 'invalid' when the type itself was bad).",
    ["type", "code"],
)
EVENTS_BOT_DROPPED = Counter(
    "engagement_events_bot_dropped_total", "Events dropped because the user agent is a known bot.", ["type"]
)
# Refused requests are counted per request, not per event: parsing the body of a request we are
# refusing would spend the CPU the limit exists to protect.
REQUESTS_RATE_LIMITED = Counter(
    "engagement_requests_rate_limited_total", "POST /events requests refused by a rate limit.", ["policy"]
)
INGEST_LATENCY = Histogram(
    "engagement_ingest_seconds",
    "Time to validate and store one POST /events request.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
