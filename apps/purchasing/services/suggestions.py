"""Reorder suggestions: open reorder alerts → draft purchase orders from each variant's preferred supplier."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.inventory.models import Location, ReorderAlert

from ..models import PurchaseOrder, PurchaseOrderLine, SupplierProduct
from .orders import OPEN_STATUSES, LineInput, purchase_order_create


@dataclass(frozen=True)
class SkippedAlert:
    alert_id: int
    variant_id: int
    location_id: int
    reason: str  # "no_preferred_supplier" | "supplier_inactive"


@dataclass
class SuggestionResult:
    orders: list[PurchaseOrder] = field(default_factory=list)
    skipped: list[SkippedAlert] = field(default_factory=list)


@transaction.atomic
def purchase_orders_suggest(*, actor: Any = None, location: Location | None = None) -> SuggestionResult:
    """Turn open reorder alerts into draft orders, one per preferred supplier and location.

    Quantity per line is max(alert's suggested quantity, supplier's minimum order quantity).
    An alert whose variant is already on an open (draft, placed, partially received) order for the
    same location is left alone, so running this twice suggests nothing new. Alerts without a
    preferred (active) supplier are returned in `skipped`, never dropped silently.
    The alert rows stay locked until commit, so concurrent runs cannot both order the same alert.
    """
    alerts_qs = ReorderAlert.objects.select_for_update(of=("self",)).filter(is_open=True)
    if location is not None:
        alerts_qs = alerts_qs.filter(stock_level__location=location)
    alerts = list(alerts_qs.select_related("stock_level").order_by("pk"))
    if not alerts:
        return SuggestionResult()

    variant_ids = {a.stock_level.variant_id for a in alerts}
    covered = set(
        PurchaseOrderLine.objects.filter(
            order__status__in=OPEN_STATUSES, variant_id__in=variant_ids
        ).values_list("variant_id", "order__location_id")
    )
    preferred = {
        sp.variant_id: sp
        for sp in SupplierProduct.objects.filter(
            variant_id__in=variant_ids, is_preferred=True
        ).select_related("supplier")
    }
    result = SuggestionResult()
    groups: dict[tuple[int, int], list[tuple[ReorderAlert, SupplierProduct]]] = defaultdict(list)
    for alert in alerts:
        level = alert.stock_level
        if (level.variant_id, level.location_id) in covered:
            continue
        sp = preferred.get(level.variant_id)
        reason = (
            "no_preferred_supplier"
            if sp is None
            else ("supplier_inactive" if not sp.supplier.is_active else "")
        )
        if reason:
            result.skipped.append(
                SkippedAlert(
                    alert_id=alert.pk,
                    variant_id=level.variant_id,
                    location_id=level.location_id,
                    reason=reason,
                )
            )
            continue
        groups[(sp.supplier_id, level.location_id)].append((alert, sp))

    locations = Location.objects.in_bulk({loc for _, loc in groups})
    for (_, location_id), items in sorted(groups.items()):
        supplier = items[0][1].supplier
        lead_days = max(sp.effective_lead_time_days for _, sp in items)
        order = purchase_order_create(
            supplier=supplier,
            location=locations[location_id],
            lines=[
                LineInput(
                    variant_id=alert.stock_level.variant_id,
                    quantity=max(alert.suggested_qty, sp.min_order_qty, 1),
                    unit_cost=sp.unit_cost,
                )
                for alert, sp in sorted(items, key=lambda item: item[0].stock_level.variant_id)
            ],
            expected_date=timezone.now().date() + timedelta(days=lead_days),
            notes="Suggested from reorder alerts " + ", ".join(f"#{alert.pk}" for alert, _ in items),
            created_by=actor,
        )
        result.orders.append(order)
    return result
