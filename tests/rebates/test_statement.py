"""Rebate statements, hand-computed for both modes."""

import datetime
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apps.rebates.models import RebateAgreement
from apps.rebates.selectors import NextTier, Tier, rebate_compute, rebate_statement
from tests.factories.catalog import BrandFactory, CategoryFactory, ProductFactory, VariantFactory
from tests.factories.purchasing import SupplierFactory
from tests.factories.purchasing import received_order as receive
from tests.factories.rebates import RebateAgreementFactory, RebateTierFactory

D = Decimal
RETRO, MARGINAL = RebateAgreement.Mode.RETROACTIVE, RebateAgreement.Mode.MARGINAL
THREE = [Tier(D("0"), D("1")), Tier(D("10000"), D("2")), Tier(D("50000"), D("3.5"))]


# --- pure tier arithmetic ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("basis", "mode", "tier", "amount", "next_tier"),
    [
        # retroactive: the whole basis at the rate of the tier reached
        ("5000", RETRO, THREE[0], "50.00", NextTier(D("10000"), D("2"), D("5000"))),
        ("10000", RETRO, THREE[1], "200.00", NextTier(D("50000"), D("3.5"), D("40000"))),
        ("60000", RETRO, THREE[2], "2100.00", None),
        # marginal: 10000 × 1 % + 40000 × 2 % + 10000 × 3.5 % = 100 + 800 + 350
        ("5000", MARGINAL, THREE[0], "50.00", NextTier(D("10000"), D("2"), D("5000"))),
        ("10000", MARGINAL, THREE[1], "100.00", NextTier(D("50000"), D("3.5"), D("40000"))),
        ("60000", MARGINAL, THREE[2], "1250.00", None),
        ("0", MARGINAL, THREE[0], "0.00", NextTier(D("10000"), D("2"), D("10000"))),
    ],
)
def test_rebate_compute_by_hand(basis, mode, tier, amount, next_tier):
    assert rebate_compute(tiers=THREE, basis=D(basis), mode=mode) == (tier, D(amount), next_tier)


def test_below_the_first_threshold_nothing_is_earned_and_the_gap_is_exact():
    tiers = [Tier(D("5000"), D("5")), Tier(D("1000"), D("2"))]  # unsorted on purpose
    for mode in (RETRO, MARGINAL):
        assert rebate_compute(tiers=tiers, basis=D("999.99"), mode=mode) == (
            None,
            D("0.00"),
            NextTier(D("1000"), D("2"), D("0.01")),
        )


def test_first_tier_above_zero_marginal_and_retroactive_differ_as_computed_by_hand():
    tiers = [Tier(D("1000"), D("2")), Tier(D("5000"), D("5"))]
    # marginal: (5000 − 1000) × 2 % + (6000 − 5000) × 5 % = 80 + 50; retroactive: 6000 × 5 %
    assert rebate_compute(tiers=tiers, basis=D("6000"), mode=MARGINAL)[1] == D("130.00")
    assert rebate_compute(tiers=tiers, basis=D("6000"), mode=RETRO)[1] == D("300.00")


def test_rounding_is_half_up_to_the_cent():
    tiers = [Tier(D("0"), D("1.5"))]
    assert rebate_compute(tiers=tiers, basis=D("333.33"), mode=RETRO)[1] == D("5.00")  # 4.99995
    assert rebate_compute(tiers=tiers, basis=D("333.30"), mode=RETRO)[1] == D("5.00")  # 4.9995


# --- basis from received purchase orders ---------------------------------------------------------


@pytest.fixture
def agreement(db):
    agreement = RebateAgreementFactory(
        period_start=datetime.date(2026, 1, 1), period_end=datetime.date(2026, 6, 30), mode=RETRO
    )
    RebateTierFactory(agreement=agreement, threshold=D("0"), rate_percent=D("1"))
    RebateTierFactory(agreement=agreement, threshold=D("1000"), rate_percent=D("3"))
    return agreement


def test_statement_counts_only_received_value_from_the_supplier_within_the_period(agreement):
    variant = VariantFactory()
    jan, feb = datetime.date(2026, 1, 10), datetime.date(2026, 2, 10)
    receive(agreement.supplier, variant, 10, "50.00", jan)  # 500 in
    receive(agreement.supplier, variant, 10, "30.00", feb, receive_qty=4)  # 120 in (6 still outstanding)
    receive(agreement.supplier, variant, 10, "99.00", feb, receive_qty=0)  # placed, nothing received
    receive(agreement.supplier, variant, 1, "77.00", datetime.date(2025, 12, 31))  # before the period
    receive(agreement.supplier, variant, 1, "88.00", datetime.date(2026, 7, 1))  # after the period
    receive(SupplierFactory(), variant, 10, "1000.00", jan)  # another supplier

    statement = rebate_statement(agreement, as_of=datetime.date(2026, 12, 31))

    assert statement.basis_amount == D("620.00")
    assert statement.tier == Tier(D("0.00"), D("1.00"))
    assert statement.rate_percent == D("1.00")
    assert statement.rebate_amount == D("6.20")
    assert statement.next_tier == NextTier(D("1000.00"), D("3.00"), D("380.00"))


def test_statement_as_of_a_date_ignores_later_receipts_and_reaching_a_tier_is_retroactive(agreement):
    variant = VariantFactory()
    receive(agreement.supplier, variant, 8, "100.00", datetime.date(2026, 1, 31))  # 800
    receive(agreement.supplier, variant, 3, "100.00", datetime.date(2026, 2, 1))  # +300 → 1100

    january = rebate_statement(agreement, as_of=datetime.date(2026, 1, 31))
    february = rebate_statement(agreement, as_of=datetime.date(2026, 2, 1))

    assert (january.basis_amount, january.rebate_amount, january.next_tier.gap) == (
        D("800.00"),
        D("8.00"),
        D("200.00"),
    )
    assert (february.basis_amount, february.tier.threshold, february.rebate_amount, february.next_tier) == (
        D("1100.00"),
        D("1000.00"),
        D("33.00"),  # 1100 × 3 %, the first 800 included
        None,
    )


def test_marginal_agreement_statement_by_hand(agreement):
    RebateAgreement.objects.filter(pk=agreement.pk).update(mode=MARGINAL)
    agreement.refresh_from_db()
    receive(agreement.supplier, VariantFactory(), 25, "100.00", datetime.date(2026, 3, 1))  # 2500
    statement = rebate_statement(agreement, as_of=datetime.date(2026, 6, 30))
    # 1000 × 1 % + 1500 × 3 % = 10 + 45
    assert (statement.basis_amount, statement.rate_percent, statement.rebate_amount) == (
        D("2500.00"),
        D("3.00"),
        D("55.00"),
    )


def test_scope_counts_products_matching_any_category_subtree_brand_or_product(agreement):
    dairy = CategoryFactory(name="Lácteos")
    yogurt = CategoryFactory(name="Yogures", parent=dairy)
    cleaning = CategoryFactory(name="Limpieza")
    acme = BrandFactory(name="Acme")
    in_subcategory = VariantFactory(product=ProductFactory(category=yogurt))
    by_brand = VariantFactory(product=ProductFactory(category=cleaning, brand=acme))
    listed_product = ProductFactory(category=cleaning)
    by_product = VariantFactory(product=listed_product)
    out_of_scope = VariantFactory(product=ProductFactory(category=cleaning))
    agreement.categories.set([dairy])
    agreement.brands.set([acme])
    agreement.products.set([listed_product])
    day = datetime.date(2026, 4, 1)
    receive(agreement.supplier, in_subcategory, 1, "10.00", day)
    receive(agreement.supplier, by_brand, 1, "20.00", day)
    receive(agreement.supplier, by_product, 1, "40.00", day)
    receive(agreement.supplier, out_of_scope, 1, "1000.00", day)

    assert rebate_statement(agreement, as_of=day).basis_amount == D("70.00")


def test_statement_before_the_period_is_empty(agreement):
    receive(agreement.supplier, VariantFactory(), 1, "10.00", datetime.date(2026, 1, 5))
    statement = rebate_statement(agreement, as_of=datetime.date(2025, 12, 1))
    assert (statement.basis_amount, statement.rebate_amount) == (D("0.00"), D("0.00"))


# --- properties ----------------------------------------------------------------------------------

money = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)
rate = st.decimals(min_value=0, max_value=100, places=2, allow_nan=False, allow_infinity=False)


@st.composite
def rising_tiers(draw):
    """Tiers whose rates never fall as thresholds rise (how volume rebates are written)."""
    thresholds = sorted(draw(st.sets(money, min_size=1, max_size=5)))
    rates = sorted(draw(st.lists(rate, min_size=len(thresholds), max_size=len(thresholds))))
    return [Tier(t, r) for t, r in zip(thresholds, rates, strict=True)]


@settings(max_examples=200, deadline=None)
@given(tiers=rising_tiers(), a=money, b=money)
def test_rebates_grow_with_the_basis_and_marginal_never_exceeds_retroactive(tiers, a, b):
    low, high = sorted((a, b))
    for mode in (RETRO, MARGINAL):
        assert rebate_compute(tiers=tiers, basis=low, mode=mode)[1] <= rebate_compute(
            tiers=tiers, basis=high, mode=mode
        )[1] + D("0.01") * len(tiers)  # per-slice rounding may cost a cent per tier
    marginal = rebate_compute(tiers=tiers, basis=high, mode=MARGINAL)[1]
    retro = rebate_compute(tiers=tiers, basis=high, mode=RETRO)[1]
    assert marginal <= retro + D("0.01") * len(tiers)
    tier, _, next_tier = rebate_compute(tiers=tiers, basis=high, mode=RETRO)
    if next_tier is not None:
        assert next_tier.gap == next_tier.threshold - high > 0
        assert tier is None or tier.threshold < next_tier.threshold
