"""Sellable units per variant, read from inventory's stock levels (one query)."""

from collections.abc import Iterable

from django.db.models import F, Sum

from apps.inventory.models import StockLevel


def available_units(*, variant_ids: Iterable[int]) -> dict[int, int]:
    """Return on-hand minus reserved over sellable locations, per variant (0 when unknown)."""
    ids = list(set(variant_ids))
    if not ids:
        return {}
    rows = (
        StockLevel.objects.filter(variant_id__in=ids, location__is_sellable=True)
        .values("variant_id")
        .annotate(available=Sum(F("on_hand") - F("reserved")))
    )
    result = dict.fromkeys(ids, 0)
    result.update({row["variant_id"]: max(row["available"] or 0, 0) for row in rows})
    return result
