"""Retention: raw events are deleted after ENGAGEMENT_RAW_RETENTION; the aggregates stay."""

from __future__ import annotations

import logging
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from apps.engagement.models import Event, RollupWatermark

from .rollup import WATERMARK

logger = logging.getLogger("apps.engagement")


def engagement_purge(*, batch_size: int = 10_000, now: datetime | None = None) -> int:
    """Delete raw events older than the retention period, in batches; return how many were deleted.

    Only events the rollup has already folded in (id ≤ its watermark) are deleted, so a stalled rollup
    never loses data. Each batch commits on its own, keeping locks and WAL bursts short.
    """
    now = now or timezone.now()
    cutoff = (now - settings.ENGAGEMENT_RAW_RETENTION).replace(minute=0, second=0, microsecond=0)
    watermark = (
        RollupWatermark.objects.filter(name=WATERMARK).values_list("last_event_id", flat=True).first() or 0
    )
    deleted = 0
    while True:
        # bucket_hour leads the (bucket_hour, product) index, so each batch is an index range scan.
        ids = list(
            Event.objects.filter(bucket_hour__lt=cutoff, id__lte=watermark)
            .order_by()
            .values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            break
        deleted += Event.objects.filter(id__in=ids).delete()[0]
    logger.info("engagement_purge", extra={"deleted": deleted, "cutoff": cutoff.isoformat()})
    return deleted
