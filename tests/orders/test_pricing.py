"""price_order: line rounding, shipping rule, the pricing-rule hook and unknown codes."""

from decimal import Decimal

import pytest

from apps.catalog.models import Variant
from apps.orders.services import Benefit, PricingInput, price_order, register_pricing_rule
from apps.orders.services.pricing import unregister_pricing_rule
from tests.factories.catalog import VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def rule():
    rules = []

    def add(fn):
        rules.append(register_pricing_rule(fn))
        return fn

    yield add
    for fn in rules:
        unregister_pricing_rule(fn)


def priced(*pairs, **kwargs):
    return price_order(lines=[PricingInput(variant=v, quantity=q) for v, q in pairs], **kwargs)


def test_flat_shipping_below_the_threshold(settings):
    settings.SHOP_SHIPPING_FLAT_RATE = Decimal("10.00")
    settings.SHOP_FREE_SHIPPING_THRESHOLD = Decimal("150.00")
    result = priced((VariantFactory(price=Decimal("49.99")), 2))
    assert (result.subtotal, result.discount_total, result.shipping_total, result.total) == (
        Decimal("99.98"),
        Decimal("0.00"),
        Decimal("10.00"),
        Decimal("109.98"),
    )
    assert result.applied_benefits == [] and result.currency == settings.SHOP_CURRENCY


def test_free_shipping_at_the_threshold(settings):
    settings.SHOP_FREE_SHIPPING_THRESHOLD = Decimal("150.00")
    result = priced((VariantFactory(price=Decimal("75.00")), 2))
    assert (result.shipping_total, result.total) == (Decimal("0.00"), Decimal("150.00"))


def test_line_amounts_round_half_up_to_cents():
    variant = Variant.objects.select_related("product").get(pk=VariantFactory().pk)
    variant.price = Decimal("0.125")  # a sub-cent price as an import could hand us: pricing must round it
    result = priced((variant, 3))
    assert result.lines[0].unit_price == Decimal("0.13")
    assert result.lines[0].line_total == Decimal("0.39")


def test_money_rounds_half_up():
    from apps.orders.services.pricing import money

    assert money(Decimal("2.675")) == Decimal("2.68")
    assert money(Decimal("2.665")) == Decimal("2.67")
    assert money(Decimal("-0.005")) == Decimal("-0.01")


def test_no_rules_means_no_benefits():
    assert priced((VariantFactory(), 1)).applied_benefits == []


def test_unknown_promotion_code_is_a_400():
    with pytest.raises(Exception) as exc:
        priced((VariantFactory(), 1), promotion_code="NOPE")
    assert (exc.value.status_code, exc.value.code) == (400, "promotion_not_found")


def test_unknown_voucher_code_is_a_400():
    with pytest.raises(Exception) as exc:
        priced((VariantFactory(), 1), voucher_code="V-1")
    assert (exc.value.status_code, exc.value.code) == (400, "voucher_not_found")


def test_a_registered_rule_discounts_lines_and_claims_its_code(rule, settings):
    settings.SHOP_FREE_SHIPPING_THRESHOLD = Decimal("1000.00")
    a, b = VariantFactory(price=Decimal("20.00")), VariantFactory(price=Decimal("30.00"))

    @rule
    def ten_percent_on_a(ctx):
        if ctx.promotion_code != "TEN":
            return []
        line = next(ln for ln in ctx.lines if ln.variant.pk == a.pk)
        amount = line.gross * Decimal("0.10")
        return [
            Benefit(
                type="percent_off",
                amount=amount,
                promotion="7",
                code="TEN",
                description="10% off A",
                line_discounts={a.pk: amount},
            )
        ]

    result = priced((a, 3), (b, 1), promotion_code="TEN")
    line_a = next(ln for ln in result.lines if ln.variant.pk == a.pk)
    assert (line_a.discount, line_a.line_total) == (Decimal("6.00"), Decimal("54.00"))
    assert (result.subtotal, result.discount_total, result.shipping_total, result.total) == (
        Decimal("90.00"),
        Decimal("6.00"),
        Decimal("10.00"),
        Decimal("94.00"),
    )
    assert [b.as_dict() for b in result.applied_benefits] == [
        {"promotion": "7", "code": "TEN", "type": "percent_off", "amount": "6.00", "description": "10% off A"}
    ]


def test_free_shipping_benefit_waives_the_rate(rule, settings):
    settings.SHOP_SHIPPING_FLAT_RATE = Decimal("12.50")

    @rule
    def free_ship(ctx):
        return (
            [Benefit(type="free_shipping", code="SHIPFREE", waives_shipping=True)] if ctx.voucher_code else []
        )

    result = priced((VariantFactory(price=Decimal("10.00")), 1), voucher_code="SHIPFREE")
    assert (result.discount_total, result.shipping_total, result.total) == (
        Decimal("0.00"),
        Decimal("0.00"),
        Decimal("10.00"),
    )
    assert result.applied_benefits[0].amount == Decimal("12.50")


def test_discounts_never_exceed_the_subtotal(rule):
    @rule
    def huge(ctx):
        return [Benefit(type="amount_off", amount=Decimal("999.00"), code="BIG")]

    result = priced((VariantFactory(price=Decimal("10.00")), 1), promotion_code="BIG")
    assert (result.discount_total, result.total) == (Decimal("10.00"), Decimal("10.00"))  # shipping only


def test_checkout_stores_and_returns_applied_benefits(rule, customer_client):
    import uuid

    from apps.orders.models import OrderDiscount
    from tests.factories.inventory import stocked_variant
    from tests.factories.orders import ADDRESS

    variant = stocked_variant(10, price=Decimal("50.00"))

    @rule
    def five_off(ctx):
        if ctx.promotion_code != "FIVE":
            return []
        return [
            Benefit(
                type="amount_off", amount=Decimal("5.00"), promotion="3", code="FIVE", description="5 off"
            )
        ]

    response = customer_client.post(
        "/api/v1/orders",
        {
            "lines": [{"variant": variant.pk, "quantity": 2}],
            "shipping_address": ADDRESS,
            "promotion_code": "FIVE",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["subtotal"], body["discount_total"], body["shipping_total"], body["total"]) == (
        "100.00",
        "5.00",
        "10.00",
        "105.00",
    )
    expected = [
        {"promotion": "3", "code": "FIVE", "type": "amount_off", "amount": "5.00", "description": "5 off"}
    ]
    assert body["applied_benefits"] == expected
    assert customer_client.get(f"/api/v1/orders/{body['id']}").json()["applied_benefits"] == expected
    assert OrderDiscount.objects.get().amount == Decimal("5.00")
