"""Reorder points and alerts.

A level with a reorder point above zero is "below reorder" while its available units (on hand minus
reserved) are at or below that point. A reorder point of 0 means "not managed": no alert.
"""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from shop.events import publish
from shop.exceptions import NotFound, ValidationFailed

from ..models import ReorderAlert, StockLevel

BELOW_REORDER_EVENT = "stock_below_reorder"


def is_below_reorder(level: StockLevel) -> bool:
    """Whether the level needs replenishing."""
    return level.reorder_point > 0 and level.available <= level.reorder_point


def suggested_quantity(level: StockLevel) -> int:
    """Units to order: the reorder quantity, at least enough to get back above the reorder point."""
    return max(level.reorder_qty, level.reorder_point - level.available + 1, 1)


def reorder_alerts_sync(*, levels: Iterable[StockLevel]) -> list[ReorderAlert]:
    """Open an alert when available ≤ reorder point (`stock_below_reorder`); close it when replenished.

    The caller holds the levels' row locks, which is what keeps "one open alert per level" true
    under concurrency (the partial unique index is the backstop). An open alert is kept up to date
    with the level's available units, reorder point and suggestion; the event is published only
    when an alert opens. Returns the alerts opened by this call.
    """
    levels = [level for level in levels if level.pk is not None]
    if not levels:
        return []
    open_alerts = {
        alert.stock_level_id: alert
        for alert in ReorderAlert.objects.filter(stock_level__in=[lv.pk for lv in levels], is_open=True)
    }
    now = timezone.now()
    opened: list[ReorderAlert] = []
    for level in {lv.pk: lv for lv in levels}.values():
        alert = open_alerts.get(level.pk)
        if is_below_reorder(level):
            state = {
                "available": level.available,
                "reorder_point": level.reorder_point,
                "suggested_qty": suggested_quantity(level),
            }
            if alert is None:
                alert = ReorderAlert.objects.create(stock_level=level, **state)
                opened.append(alert)
                publish(
                    BELOW_REORDER_EVENT,
                    {
                        "alert_id": alert.pk,
                        "stock_level_id": level.pk,
                        "variant_id": level.variant_id,
                        "location_id": level.location_id,
                        **state,
                    },
                )
            elif any(getattr(alert, field) != value for field, value in state.items()):
                ReorderAlert.objects.filter(pk=alert.pk).update(**state)
        elif alert is not None:
            ReorderAlert.objects.filter(pk=alert.pk).update(
                is_open=False, closed_at=now, available=level.available
            )
    return opened


def _check_units(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0 or value > 2**31 - 1:
        raise ValidationFailed(details={field: ["Must be a whole number of units, zero or more."]})
    return value


@transaction.atomic
def stock_level_set_reorder(
    *,
    level_id: int,
    reorder_point: int | None = None,
    reorder_qty: int | None = None,
    actor: Any = None,
) -> StockLevel:
    """Change a level's reorder point and/or quantity and re-sync its alert."""
    level = StockLevel.objects.select_for_update().filter(pk=level_id).first()
    if level is None:
        raise NotFound("Stock level not found.")
    fields = []
    if reorder_point is not None:
        level.reorder_point = _check_units(reorder_point, "reorder_point")
        fields.append("reorder_point")
    if reorder_qty is not None:
        level.reorder_qty = _check_units(reorder_qty, "reorder_qty")
        fields.append("reorder_qty")
    if fields:
        level.save(update_fields=[*fields, "updated_at"])
        reorder_alerts_sync(levels=[level])
    return level
