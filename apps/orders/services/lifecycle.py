"""One service per status transition. Each locks the order row, checks the transition table,
applies the stock and payment side effects, appends an OrderEvent and publishes its event — all in
one transaction."""

import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.inventory.services import StockLine, stock_commit_sale, stock_receive, stock_release, stock_reserve
from shop.exceptions import InvalidTransition, NotFound

from ..exceptions import DuplicateTrackingNumber
from ..models import Order, OrderStatus, Shipment
from ..ports import payment_gateway
from .checkout import reservation_expiry, stock_reference
from .transitions import apply_transition, ensure_transition, order_lock, parse_order_id, publish_order_event

logger = logging.getLogger(__name__)
S = OrderStatus

# Statuses a paid order reaches; a repeated approval of such an order changes nothing.
_PAID_OR_LATER = {S.PAID, S.SHIPPED, S.DELIVERED, S.REFUNDED}


def _actor_id(actor: Any) -> int | None:
    return actor.pk if getattr(actor, "is_authenticated", False) else None


@transaction.atomic
def order_mark_paid(*, order_id: str, actor: Any = None, reason: str = "payment approved") -> Order:
    """Mark a pending order paid: its reserved units become sales; publishes `order_paid`.

    Idempotent for orders already paid or later. A cancelled order raises `invalid_transition`
    (payments then refunds the money). If the reservation was already released and the units can no
    longer be reserved, raises `insufficient_stock` with nothing changed.
    """
    order = order_lock(order_id)
    if order.status in _PAID_OR_LATER:
        return order
    ensure_transition(order, S.PAID)
    reference = stock_reference(order.id)
    if not stock_commit_sale(reference=reference, actor=actor, reason="order paid"):
        # The reservation is gone (released by the sweeper): take the units again, all or nothing.
        stock_reserve(
            lines=[StockLine(variant_id=ln.variant_id, quantity=ln.quantity) for ln in order.lines.all()],
            reference=reference,
            expires_at=reservation_expiry(),
            actor=actor,
        )
        stock_commit_sale(reference=reference, actor=actor, reason="order paid")
    apply_transition(order, S.PAID, actor=actor, reason=reason)
    publish_order_event("order_paid", order)
    return order


@transaction.atomic
def order_payment_failed(*, order_id: str, reason: str) -> Order:
    """Cancel a pending order whose payment was rejected, cancelled or expired; releases its stock.

    A no-op for an order that is no longer pending payment.
    """
    order = order_lock(order_id)
    if order.status != S.PENDING_PAYMENT:
        return order
    stock_release(reference=stock_reference(order.id), reason=f"payment failed: {reason}"[:255])
    apply_transition(order, S.CANCELLED, reason=reason or "payment failed")
    publish_order_event("order_cancelled", order, previous_status=S.PENDING_PAYMENT, refunded=False)
    return order


def _restock(order: Order, *, actor: Any, reason: str) -> None:
    # Sold units come back as a receive at the default location, referenced to the order.
    for line in order.lines.all():
        stock_receive(
            variant_id=line.variant_id,
            quantity=line.quantity,
            actor=actor,
            reason=reason,
            reference=stock_reference(order.id),
        )


@transaction.atomic
def order_cancel(*, order_id: str, actor: Any = None, reason: str = "") -> Order:
    """Cancel an order that has not shipped: release its reservation or, if paid, restock and refund.

    Publishes `order_cancelled`; a paid order also publishes `order_refunded` (money went back).
    """
    order = order_lock(order_id)
    ensure_transition(order, S.CANCELLED)
    previous = order.status
    if previous == S.PENDING_PAYMENT:
        stock_release(reference=stock_reference(order.id), actor=actor, reason="order cancelled")
        payment_gateway().payment_cancel(order_id=str(order.id))
    else:
        _restock(order, actor=actor, reason="cancelled after payment")
        payment_gateway().payment_refund(order_id=str(order.id), actor_id=_actor_id(actor))
    apply_transition(order, S.CANCELLED, actor=actor, reason=reason or "cancelled")
    refunded = previous == S.PAID
    publish_order_event("order_cancelled", order, previous_status=previous, refunded=refunded)
    if refunded:
        publish_order_event("order_refunded", order, previous_status=previous, restocked=True)
    return order


@transaction.atomic
def order_refund(*, order_id: str, actor: Any = None, reason: str = "", restock: bool | None = None) -> Order:
    """Refund a paid, shipped or delivered order; publishes `order_refunded`.

    Units return to stock for a paid (never shipped) order; for a shipped or delivered one only when
    `restock` is true (the goods came back).
    """
    order = order_lock(order_id)
    ensure_transition(order, S.REFUNDED)
    previous = order.status
    restocked = True if previous == S.PAID else bool(restock)
    if restocked:
        _restock(order, actor=actor, reason="refunded")
    payment_gateway().payment_refund(order_id=str(order.id), actor_id=_actor_id(actor))
    apply_transition(order, S.REFUNDED, actor=actor, reason=reason or "refunded")
    publish_order_event("order_refunded", order, previous_status=previous, restocked=restocked)
    return order


def _shipment_payload(shipment: Shipment) -> dict[str, Any]:
    return {
        "shipment_id": shipment.pk,
        "shipment_status": shipment.status,
        "carrier": shipment.carrier,
        "tracking_number": shipment.tracking_number,
    }


@transaction.atomic
def order_ship(*, order_id: str, carrier: str, tracking_number: str, actor: Any = None) -> Shipment:
    """Ship a paid order: creates its Shipment, order → shipped; publishes `shipment_updated`."""
    order = order_lock(order_id)
    ensure_transition(order, S.SHIPPED)
    try:
        with transaction.atomic():
            shipment = Shipment.objects.create(
                order=order,
                carrier=carrier,
                tracking_number=tracking_number,
                shipped_at=timezone.now(),
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
    except IntegrityError:
        raise DuplicateTrackingNumber(details={"tracking_number": [tracking_number]}) from None
    apply_transition(order, S.SHIPPED, actor=actor, reason=f"shipped with {carrier} {tracking_number}"[:255])
    publish_order_event("shipment_updated", order, **_shipment_payload(shipment))
    return shipment


@transaction.atomic
def shipment_deliver(*, shipment_id: int, actor: Any = None) -> Shipment:
    """Mark a shipment delivered and its order delivered; publishes `shipment_updated`."""
    found = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
    if found is None:
        raise NotFound("Shipment not found.")
    order = order_lock(found)  # order first, then shipment: the same lock order as order_ship
    shipment = Shipment.objects.select_for_update().get(pk=shipment_id)
    if shipment.status != Shipment.Status.SHIPPED:
        raise InvalidTransition(
            "This shipment was already delivered.", details={"from": shipment.status, "to": "delivered"}
        )
    ensure_transition(order, S.DELIVERED)
    shipment.status, shipment.delivered_at = Shipment.Status.DELIVERED, timezone.now()
    shipment.save(update_fields=["status", "delivered_at"])
    apply_transition(order, S.DELIVERED, actor=actor, reason="delivered")
    shipment.order = order
    publish_order_event("shipment_updated", order, **_shipment_payload(shipment))
    return shipment


def order_deliver(*, order_id: str, actor: Any = None) -> Shipment:
    """Mark the order's open shipment delivered (order shipped → delivered)."""
    order_id = parse_order_id(order_id)
    shipment_id = (
        Shipment.objects.filter(order_id=order_id, status=Shipment.Status.SHIPPED)
        .order_by("-shipped_at")
        .values_list("pk", flat=True)
        .first()
    )
    if shipment_id is None:
        order = Order.objects.filter(pk=order_id).first()
        if order is None:
            raise NotFound("Order not found.")
        ensure_transition(order, S.DELIVERED)
        raise InvalidTransition("This order has no open shipment.")
    return shipment_deliver(shipment_id=shipment_id, actor=actor)


def orders_expire_unpaid(*, now: datetime | None = None, limit: int = 500) -> int:
    """Cancel orders unpaid for longer than SHOP_PAYMENT_TIMEOUT; release stock, cancel the payment.

    Each order is handled in its own transaction with its row locked and its status re-checked, so
    a payment approved at the same moment wins or loses cleanly. Returns how many were cancelled.
    """
    cutoff = (now or timezone.now()) - settings.SHOP_PAYMENT_TIMEOUT
    candidates = list(
        Order.objects.filter(status=S.PENDING_PAYMENT, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for order_id in candidates:
        try:
            with transaction.atomic():
                order = order_lock(order_id)
                if order.status != S.PENDING_PAYMENT or order.created_at > cutoff:
                    continue
                stock_release(reference=stock_reference(order.id), reason="payment timeout")
                payment_gateway().payment_cancel(order_id=str(order.id))
                apply_transition(order, S.CANCELLED, reason="payment timeout")
                publish_order_event(
                    "order_cancelled", order, previous_status=S.PENDING_PAYMENT, refunded=False
                )
                expired += 1
        except Exception:
            # One bad order must not stop the sweep; it is retried on the next run.
            logger.exception("order expiry failed", extra={"order_id": str(order_id)})
    return expired
