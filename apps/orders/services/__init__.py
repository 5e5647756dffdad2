"""Orders' write services (one entry point per behaviour)."""

from .cart import cart_get_or_create, cart_line_add, cart_line_delete, cart_line_update
from .checkout import PlacedOrder, RequestedLine, order_place, stock_reference
from .lifecycle import (
    order_cancel,
    order_deliver,
    order_mark_paid,
    order_payment_failed,
    order_refund,
    order_ship,
    orders_expire_unpaid,
    shipment_deliver,
)
from .pricing import Benefit, PricedOrder, PricingContext, PricingInput, price_order, register_pricing_rule
from .transitions import TRANSITIONS, can_transition

__all__ = [
    "TRANSITIONS",
    "Benefit",
    "PlacedOrder",
    "PricedOrder",
    "PricingContext",
    "PricingInput",
    "RequestedLine",
    "can_transition",
    "cart_get_or_create",
    "cart_line_add",
    "cart_line_delete",
    "cart_line_update",
    "order_cancel",
    "order_deliver",
    "order_mark_paid",
    "order_payment_failed",
    "order_place",
    "order_refund",
    "order_ship",
    "orders_expire_unpaid",
    "price_order",
    "register_pricing_rule",
    "shipment_deliver",
    "stock_reference",
]
