"""Report side effects: publish CTR per position to Prometheus."""

from datetime import timedelta

from django.utils import timezone

from apps.exposure import metrics
from apps.exposure.selectors import ctr_by_position


def ctr_gauges_refresh(*, days: int = 7) -> list[dict]:
    """Recompute CTR per position over the last `days` and set the `shop_exposure_ctr` gauge."""
    rows = ctr_by_position(since=timezone.now() - timedelta(days=days))
    for row in rows:
        metrics.CTR_BY_POSITION.labels(position=str(row["key"])).set(row["ctr"])
    return rows
