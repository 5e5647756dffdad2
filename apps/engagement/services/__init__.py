"""Engagement services: ingestion, rollups, retention."""

from .ingest import IngestResult, Rejection, decode_body, events_ingest, is_bot
from .retention import engagement_purge
from .rollup import RollupResult, engagement_rollup, event_safe_high_watermark

__all__ = [
    "IngestResult",
    "Rejection",
    "RollupResult",
    "decode_body",
    "engagement_purge",
    "engagement_rollup",
    "event_safe_high_watermark",
    "events_ingest",
    "is_bot",
]
