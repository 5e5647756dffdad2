"""Orders' reads. Every customer-facing query is filtered by owner: another customer's order or cart
line simply does not exist (404), lists included."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from shop.exceptions import NotFound

from .models import Cart, CartLine, Order, OrderEvent, Shipment
from .ports import PaymentInfo, payment_gateway
from .services.availability import available_units
from .services.cart import cart_get_or_create
from .services.pricing import PricedOrder, PricingInput, price_order
from .services.transitions import parse_order_id


def _with_details(queryset: QuerySet[Order]) -> QuerySet[Order]:
    return queryset.prefetch_related("lines", "discounts")


def order_list(*, customer: Any) -> QuerySet[Order]:
    """The customer's own orders, newest first, with lines and discounts loaded."""
    return _with_details(Order.objects.filter(customer=customer)).order_by("-created_at", "-number")


def order_get(*, customer: Any, order_id: Any) -> Order:
    """One of the customer's own orders (404 for anyone else's)."""
    order = order_list(customer=customer).filter(pk=parse_order_id(order_id)).first()
    if order is None:
        raise NotFound("Order not found.")
    return order


def order_admin_list(
    *, status: str | None = None, search: str | None = None, customer_id: int | None = None
) -> QuerySet[Order]:
    """Every order for staff, filterable by status, customer and number/e-mail search."""
    queryset = _with_details(Order.objects.select_related("customer"))
    if status:
        queryset = queryset.filter(status=status)
    if customer_id:
        queryset = queryset.filter(customer_id=customer_id)
    if search:
        queryset = queryset.filter(Q(number__icontains=search) | Q(customer__email__icontains=search))
    return queryset.order_by("-created_at", "-number")


def order_admin_get(*, order_id: Any) -> Order:
    """One order with everything staff see: lines, discounts, shipments and the timeline."""
    order = (
        order_admin_list()
        .prefetch_related(
            Prefetch("events", queryset=OrderEvent.objects.select_related("actor")),
            Prefetch("shipments", queryset=Shipment.objects.all()),
        )
        .filter(pk=parse_order_id(order_id))
        .first()
    )
    if order is None:
        raise NotFound("Order not found.")
    return order


def shipment_get(*, shipment_id: int) -> Shipment:
    """A shipment with its order (staff)."""
    shipment = Shipment.objects.select_related("order").filter(pk=shipment_id).first()
    if shipment is None:
        raise NotFound("Shipment not found.")
    return shipment


def payment_summaries(*, orders: list[Order]) -> dict[str, PaymentInfo]:
    """Latest payment per order in one query, through the payments port."""
    if not orders:
        return {}
    return payment_gateway().payment_summary(order_ids=[str(order.id) for order in orders])


@dataclass(frozen=True)
class CartProblem:
    line: int
    code: str


@dataclass(frozen=True)
class CartView:
    cart: Cart
    lines: list[CartLine]
    priced: PricedOrder
    problems: list[CartProblem]
    unit_prices: dict[int, Decimal]
    line_totals: dict[int, Decimal]


def cart_view(*, customer: Any) -> CartView:
    """The customer's cart priced at current prices, with lines that cannot be bought as problems.

    Problem codes: `inactive_variant`, `out_of_stock`, `insufficient_stock`, `price_changed`.
    """
    cart = cart_get_or_create(customer=customer)
    lines = list(CartLine.objects.filter(cart=cart).select_related("variant__product").order_by("id"))
    available = available_units(variant_ids=[line.variant_id for line in lines])
    problems: list[CartProblem] = []
    for line in lines:
        variant = line.variant
        if not (variant.is_active and variant.product.is_active):
            problems.append(CartProblem(line=line.pk, code="inactive_variant"))
            continue
        units = available.get(line.variant_id, 0)
        if units <= 0:
            problems.append(CartProblem(line=line.pk, code="out_of_stock"))
        elif units < line.quantity:
            problems.append(CartProblem(line=line.pk, code="insufficient_stock"))
        if variant.price != line.unit_price:
            problems.append(CartProblem(line=line.pk, code="price_changed"))
    priced = price_order(
        lines=[PricingInput(variant=line.variant, quantity=line.quantity) for line in lines],
        customer=customer,
        with_shipping=False,
    )
    by_variant = {p.variant.pk: p for p in priced.lines}
    return CartView(
        cart=cart,
        lines=lines,
        priced=priced,
        problems=problems,
        unit_prices={line.pk: by_variant[line.variant_id].unit_price for line in lines},
        line_totals={line.pk: by_variant[line.variant_id].line_total for line in lines},
    )
