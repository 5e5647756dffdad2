"""Inventory reads: each selector owns its query shape (no N+1 in lists)."""

from collections.abc import Iterable

from django.db.models import F, QuerySet, Sum

from .models import Location, ReorderAlert, StockLevel, StockMovement


def locations_list() -> QuerySet[Location]:
    """Every stock location, by code."""
    return Location.objects.order_by("code")


def stock_levels_list() -> QuerySet[StockLevel]:
    """Stock levels with their variant (SKU) loaded, by variant then location (the unique index)."""
    return StockLevel.objects.select_related("variant").order_by("variant_id", "location_id")


def stock_levels_below_reorder(queryset: QuerySet[StockLevel] | None = None) -> QuerySet[StockLevel]:
    """Levels whose available units are at or below a (non-zero) reorder point."""
    queryset = stock_levels_list() if queryset is None else queryset
    # Written as the expression of the partial index stock_below_reorder_idx so PostgreSQL can use it.
    return queryset.alias(reorder_shortfall=F("reorder_point") - F("on_hand") + F("reserved")).filter(
        reorder_point__gt=0, reorder_shortfall__gte=0
    )


def stock_movements_list() -> QuerySet[StockMovement]:
    """The movement ledger, newest first, with SKU and actor loaded."""
    return StockMovement.objects.select_related("variant", "actor").order_by("-created_at", "-id")


def reorder_alerts_open() -> QuerySet[ReorderAlert]:
    """Open reorder alerts, newest first, with their level and SKU loaded."""
    return (
        ReorderAlert.objects.filter(is_open=True)
        .select_related("stock_level__variant")
        .order_by("-created_at", "-id")
    )


def variants_available(variant_ids: Iterable[int]) -> dict[int, int]:
    """Sellable units (on hand minus reserved, over sellable locations) per variant; 0 when unstocked."""
    ids = list(variant_ids)
    rows = (
        StockLevel.objects.filter(variant_id__in=ids, location__is_sellable=True)
        .order_by()
        .values("variant_id")
        .annotate(units=Sum(F("on_hand") - F("reserved")))
    )
    available = dict.fromkeys(ids, 0)
    available.update({row["variant_id"]: row["units"] for row in rows})
    return available
