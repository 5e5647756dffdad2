"""Celery tasks of the engagement app (beat entries in config/settings/base.py)."""

from typing import Any

from celery import shared_task

from apps.engagement.services import engagement_purge, engagement_rollup


@shared_task
def engagement_rollup_task() -> dict[str, Any]:
    """Fold newly ingested events into the hourly, daily and customer aggregates."""
    result = engagement_rollup()
    return {"events": result.events, "watermark": result.watermark}


@shared_task
def engagement_purge_task() -> int:
    """Delete raw events past ENGAGEMENT_RAW_RETENTION."""
    return engagement_purge()
