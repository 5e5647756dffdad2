"""Property test: random stock operations keep the constraints and the ledger equal to the level."""

from collections import defaultdict

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.inventory.models import Reservation, StockLevel
from apps.inventory.services import (
    StockLine,
    default_location,
    stock_adjust,
    stock_commit_sale,
    stock_receive,
    stock_release,
    stock_reserve,
)
from shop.exceptions import InsufficientStock, ValidationFailed
from tests.factories.catalog import VariantFactory
from tests.factories.inventory import LocationFactory, assert_ledger_matches

pytestmark = pytest.mark.django_db

operations = st.lists(
    st.tuples(
        st.sampled_from(["receive", "adjust", "reserve", "release", "sale"]),
        st.integers(min_value=-6, max_value=9),  # quantity
        st.integers(min_value=0, max_value=1),  # location index
        st.sampled_from(["A", "B", "C"]),  # reference
    ),
    max_size=30,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_random_operation_sequences_keep_constraints_and_ledger(ops):
    variant = VariantFactory()
    locations = [default_location(), LocationFactory()]
    on_hand = defaultdict(int)  # location index → units received/adjusted there (sales counted apart)
    reserved_by_ref = defaultdict(int)  # reference → expected reserved units (all locations)
    sold = 0
    prefix = f"v{variant.pk}-"
    for kind, quantity, where, ref in ops:
        location = locations[where]
        reference = prefix + ref
        levels = {lv.location_id: lv for lv in StockLevel.objects.filter(variant=variant)}
        level = levels.get(location.pk)
        level_on_hand, level_reserved = (level.on_hand, level.reserved) if level else (0, 0)
        total_available = sum(lv.available for lv in levels.values())
        try:
            if kind == "receive":
                stock_receive(variant_id=variant.pk, quantity=quantity, location_id=location.pk)
                assert quantity > 0
                on_hand[where] += quantity
            elif kind == "adjust":
                stock_adjust(variant_id=variant.pk, quantity=quantity, location_id=location.pk)
                assert quantity != 0 and level_on_hand + quantity >= level_reserved
                on_hand[where] += quantity
            elif kind == "reserve":
                stock_reserve(lines=[StockLine(variant.pk, quantity)], reference=reference)
                assert 0 < quantity <= total_available
                reserved_by_ref[ref] += quantity
            elif kind == "release":
                stock_release(reference=reference)
                reserved_by_ref[ref] = 0
            else:
                sold_now = sum(r.quantity for r in stock_commit_sale(reference=reference))
                assert sold_now == reserved_by_ref[ref]
                sold += sold_now
                reserved_by_ref[ref] = 0
        except ValidationFailed:
            assert quantity <= 0 or kind == "adjust" and quantity == 0
        except InsufficientStock:
            if kind == "adjust":
                assert level_on_hand + quantity < level_reserved
            else:
                assert kind == "reserve" and quantity > total_available
        levels = list(StockLevel.objects.filter(variant=variant))
        for lv in levels:
            assert 0 <= lv.reserved <= lv.on_hand
        assert sum(lv.on_hand for lv in levels) == sum(on_hand.values()) - sold
        assert sum(lv.reserved for lv in levels) == sum(reserved_by_ref.values())
        active = Reservation.objects.filter(variant=variant, status="active")
        assert sum(r.quantity for r in active) == sum(reserved_by_ref.values())
        assert_ledger_matches(*levels)
