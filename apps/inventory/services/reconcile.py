"""Reconciliation of stock levels against the movement ledger.

The ledger is the source of truth: it is append-only and every service writes it in the same
transaction as the level, so a level that disagrees with the sum of its movements was changed
outside the services (a raw UPDATE, a restored backup, a bug). `--fix` therefore sets the level to
the ledger totals and logs the correction; it writes no movement, because the ledger already says
what happened. Physical count differences are a different thing: they are booked with an `adjust`
movement (API or admin), never by reconciliation.
"""

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Sum

from ..models import StockLevel, StockMovement
from .alerts import reorder_alerts_sync

logger = logging.getLogger("apps.inventory")

Progress = Callable[[Iterable, int], Iterable]


@dataclass
class Drift:
    level_id: int | None
    variant_id: int
    location_id: int
    sku: str
    location: str
    on_hand: int
    ledger_on_hand: int
    reserved: int
    ledger_reserved: int
    status: str = "drift"  # drift | fixed | unfixable

    @property
    def ledger_is_valid(self) -> bool:
        return 0 <= self.ledger_reserved <= self.ledger_on_hand


def _ledger_totals() -> dict[tuple[int, int], tuple[int, int]]:
    rows = (
        StockMovement.objects.order_by()
        .values("variant_id", "location_id")
        .annotate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    )
    return {(r["variant_id"], r["location_id"]): (r["on_hand"] or 0, r["reserved"] or 0) for r in rows}


def _levels() -> Iterator[StockLevel]:
    return (
        StockLevel.objects.select_related("variant", "location")
        .only("pk", "variant_id", "location_id", "on_hand", "reserved", "variant__sku", "location__code")
        .order_by("pk")
        .iterator(chunk_size=2000)
    )


def stock_drift_find(*, progress: Progress | None = None) -> list[Drift]:
    """List levels whose on-hand/reserved differ from the sums of their movement deltas."""
    ledger = _ledger_totals()
    drifts: list[Drift] = []
    levels: Iterable[StockLevel] = _levels()
    if progress is not None:
        levels = progress(levels, StockLevel.objects.count())
    for level in levels:
        on_hand, reserved = ledger.pop((level.variant_id, level.location_id), (0, 0))
        if (on_hand, reserved) != (level.on_hand, level.reserved):
            drifts.append(
                Drift(
                    level_id=level.pk,
                    variant_id=level.variant_id,
                    location_id=level.location_id,
                    sku=level.variant.sku,
                    location=level.location.code,
                    on_hand=level.on_hand,
                    ledger_on_hand=on_hand,
                    reserved=level.reserved,
                    ledger_reserved=reserved,
                )
            )
    # Movements whose level row is missing altogether.
    for (variant_id, location_id), (on_hand, reserved) in ledger.items():
        if (on_hand, reserved) == (0, 0):
            continue
        drifts.append(
            Drift(
                level_id=None,
                variant_id=variant_id,
                location_id=location_id,
                sku=str(variant_id),
                location=str(location_id),
                on_hand=0,
                ledger_on_hand=on_hand,
                reserved=0,
                ledger_reserved=reserved,
            )
        )
    return drifts


@transaction.atomic
def _fix(drift: Drift) -> Drift:
    level, _ = StockLevel.objects.select_for_update().get_or_create(
        variant_id=drift.variant_id, location_id=drift.location_id
    )
    # Recompute under the row lock: every movement of this level is written while holding it.
    totals = StockMovement.objects.filter(
        variant_id=drift.variant_id, location_id=drift.location_id
    ).aggregate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    drift.level_id = level.pk
    drift.on_hand, drift.reserved = level.on_hand, level.reserved
    drift.ledger_on_hand, drift.ledger_reserved = totals["on_hand"] or 0, totals["reserved"] or 0
    if (drift.on_hand, drift.reserved) == (drift.ledger_on_hand, drift.ledger_reserved):
        drift.status = "fixed"  # someone else already put it right
        return drift
    if not drift.ledger_is_valid:
        drift.status = "unfixable"
        logger.error("stock_reconcile_unfixable", extra={"drift": drift.__dict__})
        return drift
    level.on_hand, level.reserved = drift.ledger_on_hand, drift.ledger_reserved
    level.save(update_fields=["on_hand", "reserved", "updated_at"])
    reorder_alerts_sync(levels=[level])
    drift.status = "fixed"
    logger.warning("stock_reconciled", extra={"drift": drift.__dict__})
    return drift


def stock_reconcile(*, fix: bool = False, progress: Progress | None = None) -> list[Drift]:
    """Find levels that disagree with the ledger; with `fix`, set each to its ledger totals."""
    drifts = stock_drift_find(progress=progress)
    if fix:
        drifts = [_fix(drift) for drift in drifts]
    return drifts
