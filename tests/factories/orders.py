"""Orders factories. Orders that need stock and a payment are made through `order_place` in tests;
these build rows directly for admin/list tests (totals satisfy the CHECK constraints)."""

from decimal import Decimal

import factory
from django.conf import settings
from django.utils import timezone

from apps.orders.models import Cart, CartLine, Order, OrderEvent, OrderLine, Shipment
from tests.factories.accounts import UserFactory
from tests.factories.catalog import VariantFactory

ADDRESS = {"name": "Ana Torres", "line1": "Av. Larco 123", "city": "Lima", "country": "PE"}


class CartFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cart

    customer = factory.SubFactory(UserFactory)


class CartLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CartLine

    cart = factory.SubFactory(CartFactory)
    variant = factory.SubFactory(VariantFactory)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.variant.price)


class OrderFactory(factory.django.DjangoModelFactory):
    """A pending order with no lines: subtotal 0 + shipping = total."""

    class Meta:
        model = Order

    number = factory.Sequence(lambda n: f"TS-{n:06d}")
    customer = factory.SubFactory(UserFactory)
    currency = factory.LazyFunction(lambda: settings.SHOP_CURRENCY)
    subtotal = Decimal("0.00")
    discount_total = Decimal("0.00")
    shipping_total = Decimal("10.00")
    total = factory.LazyAttribute(lambda o: o.subtotal - o.discount_total + o.shipping_total)
    shipping_address = factory.LazyFunction(lambda: dict(ADDRESS))


class OrderLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderLine

    order = factory.SubFactory(OrderFactory)
    variant = factory.SubFactory(VariantFactory)
    sku = factory.LazyAttribute(lambda o: o.variant.sku)
    name = "Product"
    quantity = 1
    unit_price = factory.LazyAttribute(lambda o: o.variant.price)
    discount = Decimal("0.00")
    line_total = factory.LazyAttribute(lambda o: o.unit_price * o.quantity - o.discount)


class OrderEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrderEvent

    order = factory.SubFactory(OrderFactory)
    from_status = ""
    to_status = "pending_payment"
    reason = "order placed"


class ShipmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shipment

    order = factory.SubFactory(OrderFactory)
    carrier = "Olva"
    tracking_number = factory.Sequence(lambda n: f"TRK{n:08d}")
    shipped_at = factory.LazyFunction(timezone.now)
