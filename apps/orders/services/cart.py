"""Cart writes. A cart may hold lines that cannot be bought right now (GET /cart lists them as
problems); only checkout refuses them."""

from typing import Any

from django.db import transaction
from django.db.models import F

from apps.catalog.models import Variant
from shop.exceptions import NotFound, ValidationFailed

from ..exceptions import VariantUnavailable
from ..models import Cart, CartLine

MAX_LINE_QUANTITY = 999


def cart_get_or_create(*, customer: Any) -> Cart:
    """Return the customer's cart, creating it on first use."""
    cart, _ = Cart.objects.get_or_create(customer=customer)
    return cart


def _check_quantity(quantity: int) -> None:
    if not 0 < quantity <= MAX_LINE_QUANTITY:
        raise ValidationFailed(details={"quantity": [f"Must be between 1 and {MAX_LINE_QUANTITY}."]})


def _locked_cart(customer: Any) -> Cart:
    cart_get_or_create(customer=customer)
    # The cart row lock serialises concurrent edits of one cart (add-or-increment races).
    return Cart.objects.select_for_update().get(customer=customer)


@transaction.atomic
def cart_line_add(*, customer: Any, variant_id: int, quantity: int) -> CartLine:
    """Add units of a variant to the cart, incrementing the line if the variant is already there."""
    _check_quantity(quantity)
    variant = Variant.objects.filter(pk=variant_id, is_active=True, product__is_active=True).first()
    if variant is None:
        raise VariantUnavailable(details={"variant": [f"Variant {variant_id} is not for sale."]})
    cart = _locked_cart(customer)
    line = CartLine.objects.filter(cart=cart, variant=variant).first()
    if line is None:
        return CartLine.objects.create(
            cart=cart, variant=variant, quantity=quantity, unit_price=variant.price
        )
    _check_quantity(line.quantity + quantity)
    line.quantity = F("quantity") + quantity
    line.unit_price = variant.price
    line.save(update_fields=["quantity", "unit_price", "updated_at"])
    line.refresh_from_db()
    return line


def _own_line(customer: Any, line_id: int) -> CartLine:
    line = CartLine.objects.select_related("variant").filter(pk=line_id, cart__customer=customer).first()
    if line is None:
        raise NotFound("Cart line not found.")
    return line


@transaction.atomic
def cart_line_update(*, customer: Any, line_id: int, quantity: int) -> CartLine:
    """Set a line's quantity; another customer's line is 404."""
    _check_quantity(quantity)
    _locked_cart(customer)
    line = _own_line(customer, line_id)
    line.quantity = quantity
    line.unit_price = line.variant.price
    line.save(update_fields=["quantity", "unit_price", "updated_at"])
    return line


@transaction.atomic
def cart_line_delete(*, customer: Any, line_id: int) -> None:
    """Remove a line from the cart; another customer's line is 404."""
    _locked_cart(customer)
    _own_line(customer, line_id).delete()
