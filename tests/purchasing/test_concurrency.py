"""Real threads behind a barrier on PostgreSQL: the order row lock serialises clerks."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from apps.inventory.models import Location, ReorderAlert, StockLevel, StockMovement
from apps.inventory.services import stock_level_set_reorder
from apps.purchasing.models import PurchaseOrder
from apps.purchasing.services import (
    LineInput,
    purchase_order_create,
    purchase_order_place,
    purchase_order_receive,
    purchase_orders_suggest,
)
from shop.events.models import OutboxEvent
from tests.factories.catalog import VariantFactory
from tests.factories.purchasing import SupplierFactory, SupplierProductFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres]


@pytest.fixture(autouse=True)
def _default_location(transactional_db):
    """Transactional tests flush the tables, including the default location the migration made."""
    Location.objects.get_or_create(
        code="MAIN", defaults={"name": "Main warehouse", "kind": "warehouse", "is_default": True}
    )


def _run(n, target):
    barrier = threading.Barrier(n)
    results, errors = [], []

    def worker(i):
        try:
            barrier.wait()
            results.append(target(i))
        except Exception as exc:  # collected and asserted by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results, errors


def test_concurrent_creates_get_distinct_sequential_numbers():
    supplier = SupplierFactory()
    variant = VariantFactory()

    def create(_):
        return purchase_order_create(
            supplier=supplier, lines=[LineInput(variant_id=variant.pk, quantity=1, unit_cost=Decimal("1"))]
        ).number

    numbers, errors = _run(12, create)
    assert errors == []
    assert len(set(numbers)) == 12
    assert sorted(numbers) == sorted(
        f"PO-{pk:06d}" for pk in PurchaseOrder.objects.values_list("pk", flat=True)
    )


def test_two_clerks_receiving_everything_at_once_receive_it_exactly_once():
    variant = VariantFactory()
    order = purchase_order_create(
        supplier=SupplierFactory(),
        lines=[LineInput(variant_id=variant.pk, quantity=7, unit_cost=Decimal("1"))],
    )
    purchase_order_place(order=order)

    results, errors = _run(6, lambda _: purchase_order_receive(order=order.pk).status)

    assert results == ["received"]
    assert len(errors) == 5 and all(e.code == "invalid_transition" for e in errors)
    level = StockLevel.objects.get(variant=variant, location__is_default=True)
    assert level.on_hand == 7
    assert StockMovement.objects.filter(reference=f"po:{order.number}").count() == 1
    assert OutboxEvent.objects.filter(name="purchase_order_received").count() == 1


def test_concurrent_suggestions_order_each_alert_once():
    variants = [SupplierProductFactory().variant for _ in range(3)]
    location = Location.objects.get(is_default=True)
    for variant in variants:
        level = StockLevel.objects.create(variant=variant, location=location)
        stock_level_set_reorder(level_id=level.pk, reorder_point=3, reorder_qty=10)
    assert ReorderAlert.objects.filter(is_open=True).count() == 3

    results, errors = _run(4, lambda _: len(purchase_orders_suggest().orders))

    assert errors == []
    assert sorted(results) == [0, 0, 0, 3]
    assert PurchaseOrder.objects.count() == 3
