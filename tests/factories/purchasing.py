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
