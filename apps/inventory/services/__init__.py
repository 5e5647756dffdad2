"""Inventory writes. Import from here: `from apps.inventory.services import stock_reserve, StockLine`."""

from .alerts import (
    BELOW_REORDER_EVENT,
    is_below_reorder,
    reorder_alerts_sync,
    stock_level_set_reorder,
    suggested_quantity,
)
from .locations import location_create, location_set_default, location_update
from .reconcile import Drift, stock_drift_find, stock_reconcile
from .stock import (
    MAX_UNITS,
    StockLine,
    default_location,
    reservations_release_expired,
    stock_adjust,
    stock_commit_sale,
    stock_receive,
    stock_release,
    stock_reserve,
)

__all__ = [
    "BELOW_REORDER_EVENT",
    "MAX_UNITS",
    "Drift",
    "StockLine",
    "default_location",
    "is_below_reorder",
    "location_create",
    "location_set_default",
    "location_update",
    "reorder_alerts_sync",
    "reservations_release_expired",
    "stock_adjust",
    "stock_commit_sale",
    "stock_drift_find",
    "stock_level_set_reorder",
    "stock_receive",
    "stock_reconcile",
    "stock_release",
    "stock_reserve",
    "suggested_quantity",
]
