"""Checkout: `order_place` turns lines (or the cart) into a pending order with reserved stock.

One transaction creates the order, its lines, discounts and timeline event, opens the payment,
publishes `order_placed` and, last, reserves the stock (inventory locks its rows in primary-key
order), so the stock rows are locked only for the reservation and the commit. The writes go out in
two statements (`shop.db.WriteBatch`): the order with its payment, then the outbox event with the
reservation's. A short line rolls the whole transaction back: nothing is created and nothing
reserved (the order number drawn from the sequence is skipped). The provider checkout is created
only after the commit, so no provider latency is spent holding stock locks.
"""

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.catalog.models import Variant
from apps.catalog.selectors import variants_with_products
from apps.inventory.services import StockLine, stock_reserve
from shop.db import WriteBatch

from ..exceptions import CartEmpty, VariantUnavailable
from ..models import CartLine, Order, OrderDiscount, OrderEvent, OrderLine, OrderStatus
from ..ports import PaymentInfo, payment_gateway
from .pricing import PricingInput, price_order
from .transitions import publish_order_event

logger = logging.getLogger(__name__)

ORDER_NUMBER_SEQUENCE = "orders_order_number_seq"


@dataclass(frozen=True)
class RequestedLine:
    variant_id: int
    quantity: int


@dataclass(frozen=True)
class PlacedOrder:
    order: Order  # with `lines` and `discounts` loaded
    payment: PaymentInfo


def stock_reference(order_id: Any) -> str:
    """The inventory reservation reference of an order."""
    return f"order:{order_id}"


def reservation_expiry():
    """Reservations outlive the payment timeout so the order-expiry job, not the sweeper, decides."""
    return timezone.now() + settings.SHOP_PAYMENT_TIMEOUT + settings.SHOP_RESERVATION_GRACE


# The next human order number (SO-000123) drawn from the sequence inside the order's INSERT, at least six
# digits: a sequence never hands out a value twice and takes no lock that outlives the call.
_NUMBER_SQL = (
    "(SELECT %s || lpad(n::text, greatest(6, length(n::text)), '0') "
    f"FROM nextval('{ORDER_NUMBER_SEQUENCE}') n)"
)


def _sqlite_order_number() -> str:
    # SQLite (development): writes are serialised by the database lock.
    return f"{settings.SHOP_ORDER_NUMBER_PREFIX}{Order.objects.count() + 1:06d}"


def _add_order(
    batch: WriteBatch,
    order: Order,
    lines: list[OrderLine],
    discounts: list[OrderDiscount],
    event: OrderEvent,
) -> None:
    """Add a new order with its lines, discounts and first timeline event to `batch`.

    On PostgreSQL its number is drawn from the sequence inside the statement (read back at the flush).
    """
    if connection.vendor == "postgresql":
        batch.insert([order], number=(_NUMBER_SQL, settings.SHOP_ORDER_NUMBER_PREFIX))
    else:
        order.number = _sqlite_order_number()
        batch.insert([order])
    for rows in (lines, discounts, [event]):
        batch.insert(rows)


def _merge(lines: Sequence[RequestedLine]) -> dict[int, int]:
    merged: dict[int, int] = defaultdict(int)
    for line in lines:
        merged[line.variant_id] += line.quantity
    return dict(merged)


def _sellable_variants(wanted: dict[int, int]) -> dict[int, Variant]:
    variants = variants_with_products(variant_ids=sorted(wanted))
    unavailable = [
        vid
        for vid in sorted(wanted)
        if vid not in variants or not (variants[vid].is_active and variants[vid].product.is_active)
    ]
    if unavailable:
        raise VariantUnavailable(
            details={"lines": [{"variant": vid, "code": "inactive_variant"} for vid in unavailable]}
        )
    return variants


def _prefetched(order: Order, **related: list) -> None:
    # What prefetch_related would store, filled from rows we hold in memory.
    cache = order.__dict__.setdefault("_prefetched_objects_cache", {})
    for name, rows in related.items():
        queryset = getattr(order, name).all()
        queryset._result_cache, queryset._prefetch_done = list(rows), True
        cache[name] = queryset


def order_place(
    *,
    customer: Any,
    shipping_address: dict[str, Any],
    lines: Sequence[RequestedLine] | None = None,
    promotion_code: str = "",
    voucher_code: str = "",
) -> PlacedOrder:
    """Place an order for `lines` (or the customer's cart when None) and start its payment.

    Short stock raises `insufficient_stock` (409) listing every short line, with nothing reserved
    and nothing created. On success the checked-out cart lines are removed.
    """
    from_cart = lines is None
    if from_cart:
        cart_lines = CartLine.objects.filter(cart__customer=customer).values_list("variant_id", "quantity")
        lines = [RequestedLine(variant_id=v, quantity=q) for v, q in cart_lines]
        if not lines:
            raise CartEmpty()
    wanted = _merge(lines)
    variants = _sellable_variants(wanted)
    priced = price_order(
        lines=[PricingInput(variant=variants[vid], quantity=qty) for vid, qty in sorted(wanted.items())],
        customer=customer,
        promotion_code=promotion_code,
        voucher_code=voucher_code,
    )

    order = Order(
        customer=customer,
        status=OrderStatus.PENDING_PAYMENT,
        currency=priced.currency,
        subtotal=priced.subtotal,
        discount_total=priced.discount_total,
        shipping_total=priced.shipping_total,
        total=priced.total,
        shipping_address=shipping_address,
        promotion_code=promotion_code or "",
        voucher_code=voucher_code or "",
    )
    order_lines = [
        OrderLine(
            order=order,
            variant=line.variant,
            sku=line.sku,
            name=line.name,
            quantity=line.quantity,
            unit_price=line.unit_price,
            discount=line.discount,
            line_total=line.line_total,
        )
        for line in priced.lines
    ]
    discounts = [
        OrderDiscount(
            order=order,
            promotion=b.promotion,
            code=b.code,
            type=b.type,
            amount=b.amount,
            description=b.description[:255],
        )
        for b in priced.applied_benefits
    ]
    placed_event = OrderEvent(
        order=order, from_status="", to_status=order.status, actor=customer, reason="order placed"
    )
    with transaction.atomic():
        # Two statements write everything: the order and its payment (that statement draws the order
        # number, which the event carries), then the event with the reservation's writes.
        pending = WriteBatch()
        _add_order(pending, order, order_lines, discounts, placed_event)
        payment = payment_gateway().payment_open(
            order_id=str(order.id), amount=order.total, currency=order.currency, batch=pending
        )
        pending.flush()
        publish_order_event("order_placed", order, payment_id=payment.id, batch=pending)
        if from_cart:
            CartLine.objects.filter(cart__customer=customer, variant_id__in=list(wanted)).delete()
        # Reserve last: the stock rows stay locked only from here to the commit, so buyers of a hot SKU
        # queue for as short a time as possible. A short line rolls everything above back.
        stock_reserve(
            lines=[StockLine(variant_id=vid, quantity=qty) for vid, qty in wanted.items()],
            reference=stock_reference(order.id),
            expires_at=reservation_expiry(),
            actor=customer,
            batch=pending,
        )

    # The caller serializes the order it just created: no need to read it back.
    _prefetched(order, lines=order_lines, discounts=discounts)
    try:
        payment = payment_gateway().payment_checkout_start(payment_id=payment.id, order=order, opened=payment)
    except Exception:
        # The order and its reservation stand; the checkout can be started again later (the call is
        # idempotent). Failing the request here would make the client retry into a second order.
        logger.exception("payment checkout start failed", extra={"order_id": str(order.id)})
    return PlacedOrder(order=order, payment=payment)
