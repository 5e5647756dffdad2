from decimal import Decimal

import pytest

from apps.inventory.models import Location, ReorderAlert, StockLevel
from apps.inventory.services import stock_level_set_reorder
from apps.purchasing.models import PurchaseOrder
from apps.purchasing.services import purchase_order_cancel, purchase_order_place, purchase_orders_suggest
from tests.factories.accounts import StaffFactory
from tests.factories.catalog import VariantFactory
from tests.factories.inventory import LocationFactory
from tests.factories.purchasing import SupplierFactory, SupplierProductFactory

pytestmark = pytest.mark.django_db


def _alert(variant, *, reorder_point=5, reorder_qty=12, location=None):
    """An open alert: no stock, reorder point above zero."""
    location = location or Location.objects.get(is_default=True)
    level, _ = StockLevel.objects.get_or_create(variant=variant, location=location)
    stock_level_set_reorder(level_id=level.pk, reorder_point=reorder_point, reorder_qty=reorder_qty)
    return ReorderAlert.objects.get(stock_level=level, is_open=True)


def _lines(order):
    return sorted(order.lines.values_list("variant_id", "quantity", "unit_cost"))


def test_suggest_builds_one_draft_per_preferred_supplier_with_the_larger_of_alert_and_minimum_qty():
    clerk = StaffFactory()
    north, south = SupplierFactory(name="North", lead_time_days=3), SupplierFactory(name="South")
    a = SupplierProductFactory(supplier=north, unit_cost=Decimal("2.00"), min_order_qty=1).variant
    b = SupplierProductFactory(supplier=north, unit_cost=Decimal("3.00"), min_order_qty=48).variant
    c = SupplierProductFactory(supplier=south, unit_cost=Decimal("1.50"), min_order_qty=6).variant
    # A non-preferred offer from south for `a` must not pull `a` into south's order.
    SupplierProductFactory(supplier=south, variant=a, unit_cost=Decimal("1.00"), is_preferred=False)
    for variant in (a, b, c):
        _alert(variant, reorder_point=5, reorder_qty=12)

    result = purchase_orders_suggest(actor=clerk)

    assert result.skipped == []
    by_supplier = {order.supplier.name: order for order in result.orders}
    assert set(by_supplier) == {"North", "South"}
    assert _lines(by_supplier["North"]) == sorted([(a.pk, 12, Decimal("2.00")), (b.pk, 48, Decimal("3.00"))])
    assert _lines(by_supplier["South"]) == [(c.pk, 12, Decimal("1.50"))]
    north_order = by_supplier["North"]
    assert (north_order.status, north_order.created_by, north_order.total) == (
        "draft",
        clerk,
        Decimal("168.00"),
    )
    assert north_order.location.is_default


def test_alerts_without_a_preferred_supplier_are_reported_not_dropped():
    orphan = VariantFactory()
    offered = SupplierProductFactory(is_preferred=False).variant  # offered, but nobody preferred
    inactive = SupplierProductFactory(supplier=SupplierFactory(is_active=False)).variant
    alerts = {v.pk: _alert(v) for v in (orphan, offered, inactive)}

    result = purchase_orders_suggest()

    assert result.orders == []
    assert PurchaseOrder.objects.count() == 0
    assert sorted((s.alert_id, s.variant_id, s.reason) for s in result.skipped) == sorted(
        [
            (alerts[orphan.pk].pk, orphan.pk, "no_preferred_supplier"),
            (alerts[offered.pk].pk, offered.pk, "no_preferred_supplier"),
            (alerts[inactive.pk].pk, inactive.pk, "supplier_inactive"),
        ]
    )


def test_suggesting_again_does_not_order_the_same_alert_twice_while_an_order_is_open():
    variant = SupplierProductFactory().variant
    _alert(variant)
    [first] = purchase_orders_suggest().orders
    assert purchase_orders_suggest().orders == []

    purchase_order_place(order=first)
    assert purchase_orders_suggest().orders == []

    purchase_order_cancel(order=first)
    [again] = purchase_orders_suggest().orders
    assert again.pk != first.pk
    assert _lines(again) == _lines(first)


def test_an_open_order_at_another_location_does_not_cover_the_alert():
    store = LocationFactory(code="STORE")
    variant = SupplierProductFactory().variant
    _alert(variant)
    [main_order] = purchase_orders_suggest().orders
    _alert(variant, location=store)

    [store_order] = purchase_orders_suggest().orders

    assert main_order.location.is_default and store_order.location == store


def test_alerts_at_two_locations_give_one_order_per_location_for_the_same_supplier():
    store = LocationFactory(code="STORE")
    variant = SupplierProductFactory().variant
    _alert(variant)
    _alert(variant, location=store)

    orders = purchase_orders_suggest().orders

    assert sorted(o.location.code for o in orders) == ["MAIN", "STORE"]
    assert len({o.supplier_id for o in orders}) == 1


def test_closed_alerts_are_ignored():
    variant = SupplierProductFactory().variant
    alert = _alert(variant)
    ReorderAlert.objects.filter(pk=alert.pk).update(is_open=False)
    result = purchase_orders_suggest()
    assert (result.orders, result.skipped) == ([], [])
