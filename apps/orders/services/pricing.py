"""Pricing in one place: every total the customer sees (cart, checkout) comes from `price_order`.

Promotions, vouchers and loyalty plug in later through `register_pricing_rule`; a rule inspects the
priced lines and returns the benefits it grants. Money is rounded ROUND_HALF_UP to cents at line level.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings

from apps.catalog.models import Variant

from ..exceptions import PromotionNotFound, VoucherNotFound

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


def money(value: Decimal | int | str) -> Decimal:
    """Round to cents, half up."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class PricingInput:
    variant: Variant
    quantity: int


@dataclass
class PricedLine:
    variant: Variant
    sku: str
    name: str
    quantity: int
    unit_price: Decimal
    discount: Decimal = ZERO

    @property
    def gross(self) -> Decimal:
        return money(self.unit_price * self.quantity)

    @property
    def line_total(self) -> Decimal:
        return money(self.gross - self.discount)


@dataclass(frozen=True)
class Benefit:
    """A benefit granted by a pricing rule.

    `amount` is money off the merchandise (distributed to lines through `line_discounts`, keyed by
    variant id, when the rule targets lines; the rest is an order-level discount). A benefit with
    `waives_shipping` sets shipping to zero instead; its amount is filled in with the waived rate.
    """

    type: str
    amount: Decimal = ZERO
    promotion: str = ""
    code: str = ""
    description: str = ""
    line_discounts: dict[int, Decimal] = field(default_factory=dict)
    waives_shipping: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "promotion": self.promotion or None,
            "code": self.code or None,
            "type": self.type,
            "amount": str(money(self.amount)),
            "description": self.description,
        }


@dataclass(frozen=True)
class PricingContext:
    lines: Sequence[PricedLine]
    subtotal: Decimal
    customer: Any
    promotion_code: str
    voucher_code: str


PricingRule = Callable[[PricingContext], list[Benefit]]
_rules: list[PricingRule] = []


def register_pricing_rule(rule: PricingRule) -> PricingRule:
    """Add a pricing rule (promotions, vouchers, loyalty); usable as a decorator. Idempotent."""
    if rule not in _rules:
        _rules.append(rule)
    return rule


def unregister_pricing_rule(rule: PricingRule) -> None:
    """Remove a rule (tests)."""
    if rule in _rules:
        _rules.remove(rule)


@dataclass
class PricedOrder:
    lines: list[PricedLine]
    subtotal: Decimal
    discount_total: Decimal
    shipping_total: Decimal
    total: Decimal
    applied_benefits: list[Benefit]
    currency: str


def shipping_for(merchandise: Decimal) -> Decimal:
    """Flat shipping rate, free at or above the threshold (on merchandise after discounts)."""
    if merchandise >= settings.SHOP_FREE_SHIPPING_THRESHOLD:
        return ZERO
    return money(settings.SHOP_SHIPPING_FLAT_RATE)


def price_order(
    *,
    lines: Sequence[PricingInput],
    customer: Any = None,
    promotion_code: str = "",
    voucher_code: str = "",
    with_shipping: bool = True,
) -> PricedOrder:
    """Price lines at current variant prices, apply the registered rules' benefits and shipping.

    Raises `promotion_not_found` / `voucher_not_found` (400) when a code was given and no rule
    recognised it.
    """
    priced = [
        PricedLine(
            variant=line.variant,
            sku=line.variant.sku,
            name=_display_name(line.variant),
            quantity=line.quantity,
            unit_price=money(line.variant.price),
        )
        for line in lines
    ]
    subtotal = sum((line.gross for line in priced), ZERO)
    context = PricingContext(
        lines=priced,
        subtotal=subtotal,
        customer=customer,
        promotion_code=(promotion_code or "").strip(),
        voucher_code=(voucher_code or "").strip(),
    )
    benefits: list[Benefit] = [benefit for rule in _rules for benefit in rule(context)]
    used_codes = {benefit.code for benefit in benefits if benefit.code}
    if context.promotion_code and context.promotion_code not in used_codes:
        raise PromotionNotFound(details={"promotion_code": [context.promotion_code]})
    if context.voucher_code and context.voucher_code not in used_codes:
        raise VoucherNotFound(details={"voucher_code": [context.voucher_code]})

    by_variant = {line.variant.pk: line for line in priced}
    discount_total = ZERO
    for benefit in benefits:
        if benefit.waives_shipping:
            continue
        for variant_id, amount in benefit.line_discounts.items():
            line = by_variant.get(variant_id)
            if line is not None:
                line.discount = min(money(line.discount + money(amount)), line.gross)
        discount_total += money(benefit.amount)
    line_discounts = sum((line.discount for line in priced), ZERO)
    # Never discount below zero; line discounts are part of the order discount total.
    discount_total = min(max(discount_total, line_discounts), subtotal)

    merchandise = subtotal - discount_total
    shipping_total = shipping_for(merchandise) if with_shipping and priced else ZERO
    applied: list[Benefit] = []
    for benefit in benefits:
        if benefit.waives_shipping:
            benefit = Benefit(**{**benefit.__dict__, "amount": shipping_total})
            shipping_total = ZERO
        applied.append(benefit)
    return PricedOrder(
        lines=priced,
        subtotal=subtotal,
        discount_total=discount_total,
        shipping_total=shipping_total,
        total=money(merchandise + shipping_total),
        applied_benefits=applied,
        currency=settings.SHOP_CURRENCY,
    )


def _display_name(variant: Variant) -> str:
    # Callers load `variant.product` with select_related; the snapshot keeps both names.
    name = variant.product.name
    return (f"{name} — {variant.name}" if variant.name else name)[:255]
