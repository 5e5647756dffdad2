"""The order status machine: the one table of legal transitions and the helper every service uses."""

import uuid
from typing import Any

from django.utils import timezone

from shop.db import WriteBatch
from shop.events import publish
from shop.exceptions import InvalidTransition, NotFound

from ..models import Order, OrderEvent, OrderStatus

S = OrderStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.CANCELLED}),
    S.PAID: frozenset({S.SHIPPED, S.CANCELLED, S.REFUNDED}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.REFUNDED: frozenset(),
}

# The timestamp each target status stamps on the order.
_STAMP = {
    S.PAID: "paid_at",
    S.SHIPPED: "shipped_at",
    S.DELIVERED: "delivered_at",
    S.CANCELLED: "cancelled_at",
    S.REFUNDED: "refunded_at",
}


def can_transition(from_status: str, to_status: str) -> bool:
    """Whether the table allows `from_status → to_status`."""
    return to_status in TRANSITIONS.get(from_status, frozenset())


def parse_order_id(order_id: Any) -> uuid.UUID:
    """Return the order id as a UUID; anything else is simply an order that does not exist (404)."""
    try:
        return order_id if isinstance(order_id, uuid.UUID) else uuid.UUID(str(order_id))
    except ValueError:
        raise NotFound("Order not found.") from None


def order_lock(order_id: Any) -> Order:
    """Load the order with its row locked for the rest of the transaction (404 if it does not exist)."""
    order = (
        Order.objects.select_for_update(of=("self",))
        .select_related("customer")
        .filter(pk=parse_order_id(order_id))
        .first()
    )
    if order is None:
        raise NotFound("Order not found.")
    return order


def ensure_transition(order: Order, to_status: str) -> None:
    """Raise 409 `invalid_transition` unless the table allows the change."""
    if not can_transition(order.status, to_status):
        raise InvalidTransition(
            f"An order that is {order.status} cannot become {to_status}.",
            details={"from": order.status, "to": to_status},
        )


def apply_transition(order: Order, to_status: str, *, actor: Any = None, reason: str = "") -> OrderEvent:
    """Move a locked order to `to_status`, stamp its timestamp and append the timeline event."""
    ensure_transition(order, to_status)
    from_status, now = order.status, timezone.now()
    order.status = to_status
    fields = ["status", "updated_at"]
    if stamp := _STAMP.get(to_status):
        setattr(order, stamp, now)
        fields.append(stamp)
    order.save(update_fields=fields)
    return OrderEvent.objects.create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason[:255],
    )


def order_payload(order: Order, **extra: Any) -> dict[str, Any]:
    """The JSON payload shared by every order event."""
    return {
        "order_id": str(order.id),
        "number": order.number,
        "customer_id": order.customer_id,
        "status": order.status,
        "total": str(order.total),
        "currency": order.currency,
        **extra,
    }


def publish_order_event(name: str, order: Order, *, batch: WriteBatch | None = None, **extra: Any) -> None:
    """Publish an order event through the outbox (inside the caller's transaction, or its `batch`)."""
    publish(name, order_payload(order, **extra), batch=batch)
