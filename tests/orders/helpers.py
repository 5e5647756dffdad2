"""Shared helpers for orders tests."""

from apps.inventory.models import Reservation, StockLevel, StockMovement
from apps.orders.services import RequestedLine, order_place
from tests.factories.orders import ADDRESS


def place(customer, *pairs, **kwargs):
    """Place an order for (variant, quantity) pairs through the service; returns the Order."""
    lines = [RequestedLine(variant_id=v.pk, quantity=q) for v, q in pairs]
    return order_place(customer=customer, shipping_address=dict(ADDRESS), lines=lines, **kwargs).order


def level(variant) -> tuple[int, int]:
    """(on_hand, reserved) summed over the variant's levels."""
    rows = StockLevel.objects.filter(variant=variant).values_list("on_hand", "reserved")
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


def movements(order) -> list[tuple[str, int, int]]:
    """(kind, on_hand_delta, reserved_delta) of the order's ledger rows, oldest first."""
    return list(
        StockMovement.objects.filter(reference=f"order:{order.id}")
        .order_by("id")
        .values_list("kind", "on_hand_delta", "reserved_delta")
    )


def reservation_statuses(order) -> list[str]:
    return list(Reservation.objects.filter(reference=f"order:{order.id}").values_list("status", flat=True))
