import datetime
from decimal import Decimal

import factory

from apps.inventory.models import Location
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierProduct
from tests.factories.catalog import VariantFactory


class SupplierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Supplier

    name = factory.Sequence(lambda n: f"Supplier {n}")
    tax_id = factory.Sequence(lambda n: f"30-{n:08d}-1")
    email = factory.Sequence(lambda n: f"sales{n}@supplier.example")
    phone = "+54 11 5555-0000"
    lead_time_days = 5


class SupplierProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierProduct

    supplier = factory.SubFactory(SupplierFactory)
    variant = factory.SubFactory(VariantFactory)
    supplier_sku = factory.Sequence(lambda n: f"SUP-{n:05d}")
    unit_cost = Decimal("4.00")
    min_order_qty = 1
    is_preferred = True


class PurchaseOrderFactory(factory.django.DjangoModelFactory):
    """A draft order at the default location; the number follows the service's PO-000123 scheme."""

    class Meta:
        model = PurchaseOrder

    supplier = factory.SubFactory(SupplierFactory)
    location = factory.LazyFunction(lambda: Location.objects.get(is_default=True))
    status = PurchaseOrder.Status.DRAFT

    @factory.post_generation
    def numbered(self, create, extracted, **kwargs):
        if create and not self.number:
            self.number = f"PO-{self.pk:06d}"
            PurchaseOrder.objects.filter(pk=self.pk).update(number=self.number)


class PurchaseOrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PurchaseOrderLine

    order = factory.SubFactory(PurchaseOrderFactory)
    variant = factory.SubFactory(VariantFactory)
    quantity = 10
    received_quantity = 0
    unit_cost = Decimal("4.00")


def received_order(supplier, variant, quantity, unit_cost, when: datetime.date, *, receive_qty=None):
    """A placed order for `quantity` units of which `receive_qty` (default all, 0 = none) arrived on `when`.

    Goes through the services (stock and ledger are true); only the receipt date is moved.
    """
    from apps.purchasing.models import PurchaseOrderReceipt
    from apps.purchasing.services import (
        LineInput,
        ReceiveLine,
        purchase_order_create,
        purchase_order_place,
        purchase_order_receive,
    )

    order = purchase_order_create(
        supplier=supplier,
        lines=[LineInput(variant_id=variant.pk, quantity=quantity, unit_cost=Decimal(unit_cost))],
    )
    purchase_order_place(order=order)
    if receive_qty != 0:
        lines = None if receive_qty is None else [ReceiveLine(order.lines.get().pk, receive_qty)]
        purchase_order_receive(order=order, lines=lines)
        PurchaseOrderReceipt.objects.filter(line__order=order).update(
            received_at=datetime.datetime.combine(when, datetime.time(15, 0), tzinfo=datetime.UTC)
        )
    return order
