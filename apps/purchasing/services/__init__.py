"""Purchasing writes: suppliers, purchase orders, reorder suggestions."""

from .orders import (
    OPEN_STATUSES,
    TRANSITIONS,
    LineInput,
    ReceiveLine,
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_number,
    purchase_order_place,
    purchase_order_receive,
    purchase_order_update,
)
from .suggestions import SkippedAlert, SuggestionResult, purchase_orders_suggest
from .suppliers import (
    SUPPLIER_FIELDS,
    supplier_create,
    supplier_product_remove,
    supplier_product_set,
    supplier_update,
)

__all__ = [
    "SUPPLIER_FIELDS",
    "OPEN_STATUSES",
    "TRANSITIONS",
    "LineInput",
    "ReceiveLine",
    "SkippedAlert",
    "SuggestionResult",
    "purchase_order_cancel",
    "purchase_order_create",
    "purchase_order_number",
    "purchase_order_place",
    "purchase_order_receive",
    "purchase_order_update",
    "purchase_orders_suggest",
    "supplier_create",
    "supplier_product_remove",
    "supplier_product_set",
    "supplier_update",
]
