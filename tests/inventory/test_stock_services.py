"""stock_receive, stock_adjust, stock_reserve, stock_release, stock_commit_sale, expiry."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from apps.inventory.models import Location, Reservation, StockLevel, StockMovement
from apps.inventory.services import (
    MAX_UNITS,
    StockLine,
    default_location,
    reservations_release_expired,
    stock_adjust,
    stock_commit_sale,
    stock_receive,
    stock_release,
    stock_reserve,
)
from shop.exceptions import InsufficientStock, ValidationFailed
from tests.factories.accounts import StaffFactory
from tests.factories.catalog import VariantFactory
from tests.factories.inventory import (
    LocationFactory,
    StockLevelFactory,
    assert_ledger_matches,
    level_of,
    stocked_variant,
)

pytestmark = pytest.mark.django_db


# --- default location ---------------------------------------------------------------------------


def test_migration_creates_one_sellable_default_location():
    location = default_location()
    assert (location.code, location.kind, location.is_sellable, location.is_default) == (
        "MAIN",
        "warehouse",
        True,
        True,
    )
    assert Location.objects.filter(is_default=True).count() == 1


def test_default_location_missing_is_a_validation_error():
    Location.objects.update(is_default=False)
    with pytest.raises(ValidationFailed) as exc:
        default_location()
    assert exc.value.code == "no_default_location"


# --- receive ------------------------------------------------------------------------------------


def test_receive_creates_level_and_receive_movement_at_default_location():
    variant = VariantFactory()
    actor = StaffFactory()
    movement = stock_receive(variant_id=variant.pk, quantity=12, actor=actor, reason="PO-1", reference="PO-1")
    level = level_of(variant)
    assert (level.on_hand, level.reserved, level.available) == (12, 0, 12)
    assert movement.pk is not None
    assert (movement.kind, movement.quantity, movement.on_hand_delta, movement.reserved_delta) == (
        "receive",
        12,
        12,
        0,
    )
    assert (movement.on_hand_after, movement.reserved_after) == (12, 0)
    assert (movement.actor, movement.reason, movement.reference) == (actor, "PO-1", "PO-1")
    assert movement.location == default_location()
    assert_ledger_matches(level)


def test_receive_adds_to_an_existing_level_at_a_named_location():
    store = LocationFactory()
    variant = stocked_variant(5, location=store)
    stock_receive(variant_id=variant.pk, quantity=3, location_id=store.pk)
    level = level_of(variant, store)
    assert level.on_hand == 8
    assert StockLevel.objects.filter(variant=variant).count() == 1
    assert StockMovement.objects.filter(variant=variant, kind="receive").count() == 2
    assert_ledger_matches(level)


@pytest.mark.parametrize("quantity", [0, -1, -100])
def test_receive_refuses_zero_or_negative_quantities_without_side_effects(quantity):
    variant = VariantFactory()
    with pytest.raises(ValidationFailed) as exc:
        stock_receive(variant_id=variant.pk, quantity=quantity)
    assert exc.value.code == "invalid"
    assert "quantity" in exc.value.details
    assert not StockLevel.objects.exists()
    assert not StockMovement.objects.exists()


@pytest.mark.parametrize("quantity", [1.5, "3", True, None])
def test_receive_refuses_non_integer_quantities(quantity):
    variant = VariantFactory()
    with pytest.raises(ValidationFailed):
        stock_receive(variant_id=variant.pk, quantity=quantity)
    assert not StockMovement.objects.exists()


def test_receive_refuses_an_unknown_variant_without_creating_a_level():
    with pytest.raises(ValidationFailed) as exc:
        stock_receive(variant_id=999_999, quantity=1)
    assert set(exc.value.details) == {"variant"}
    assert not StockLevel.objects.exists()
    assert not StockMovement.objects.exists()


def test_receive_refuses_an_unknown_location():
    variant = VariantFactory()
    with pytest.raises(ValidationFailed) as exc:
        stock_receive(variant_id=variant.pk, quantity=1, location_id=999_999)
    assert set(exc.value.details) == {"location"}
    assert not StockLevel.objects.exists()


def test_receive_refuses_to_overflow_the_on_hand_column():
    variant = stocked_variant(MAX_UNITS)
    with pytest.raises(ValidationFailed):
        stock_receive(variant_id=variant.pk, quantity=1)
    assert level_of(variant).on_hand == MAX_UNITS
    assert StockMovement.objects.filter(variant=variant).count() == 1


def test_receive_into_a_non_sellable_location_is_allowed():
    backroom = LocationFactory(is_sellable=False)
    variant = VariantFactory()
    stock_receive(variant_id=variant.pk, quantity=4, location_id=backroom.pk)
    assert level_of(variant, backroom).on_hand == 4


def test_anonymous_actor_is_not_recorded():
    from django.contrib.auth.models import AnonymousUser

    variant = VariantFactory()
    movement = stock_receive(variant_id=variant.pk, quantity=1, actor=AnonymousUser())
    assert movement.actor is None


# --- adjust -------------------------------------------------------------------------------------


def test_adjust_up_and_down_writes_signed_movements():
    variant = stocked_variant(10)
    down = stock_adjust(variant_id=variant.pk, quantity=-4, reason="damaged")
    up = stock_adjust(variant_id=variant.pk, quantity=2, reason="found")
    level = level_of(variant)
    assert level.on_hand == 8
    assert (down.kind, down.quantity, down.on_hand_delta, down.on_hand_after, down.reason) == (
        "adjust",
        -4,
        -4,
        6,
        "damaged",
    )
    assert (up.quantity, up.on_hand_after) == (2, 8)
    assert_ledger_matches(level)


def test_adjust_to_exactly_zero_is_allowed():
    variant = stocked_variant(3)
    stock_adjust(variant_id=variant.pk, quantity=-3)
    assert level_of(variant).on_hand == 0


def test_adjust_below_zero_is_insufficient_stock_and_changes_nothing():
    variant = stocked_variant(3)
    with pytest.raises(InsufficientStock) as exc:
        stock_adjust(variant_id=variant.pk, quantity=-4)
    assert exc.value.code == "insufficient_stock"
    assert exc.value.status_code == 409
    assert exc.value.details == {"lines": [{"variant": variant.pk, "requested": 4, "available": 3}]}
    assert level_of(variant).on_hand == 3
    assert StockMovement.objects.filter(variant=variant).count() == 1


def test_adjust_below_reserved_units_is_insufficient_stock():
    variant = stocked_variant(5)
    stock_reserve(lines=[StockLine(variant.pk, 4)], reference="O-1")
    with pytest.raises(InsufficientStock) as exc:
        stock_adjust(variant_id=variant.pk, quantity=-2)
    assert exc.value.details["lines"] == [{"variant": variant.pk, "requested": 2, "available": 1}]
    level = level_of(variant)
    assert (level.on_hand, level.reserved) == (5, 4)
    assert_ledger_matches(level)


def test_negative_adjust_of_a_never_stocked_variant_leaves_no_level_behind():
    variant = VariantFactory()
    with pytest.raises(InsufficientStock):
        stock_adjust(variant_id=variant.pk, quantity=-1)
    assert not StockLevel.objects.exists()


def test_adjust_zero_is_invalid():
    variant = stocked_variant(3)
    with pytest.raises(ValidationFailed) as exc:
        stock_adjust(variant_id=variant.pk, quantity=0)
    assert "quantity" in exc.value.details


def test_adjust_refuses_unknown_variant():
    with pytest.raises(ValidationFailed) as exc:
        stock_adjust(variant_id=424242, quantity=5)
    assert "variant" in exc.value.details


def test_a_failed_change_inside_a_callers_transaction_leaves_that_transaction_usable():
    variant = stocked_variant(1)
    with transaction.atomic():
        with pytest.raises(InsufficientStock):
            stock_adjust(variant_id=variant.pk, quantity=-2)
        stock_receive(variant_id=variant.pk, quantity=1)
    assert level_of(variant).on_hand == 2


# --- reserve ------------------------------------------------------------------------------------


def test_reserve_holds_units_with_movements_and_reservations():
    a, b = stocked_variant(10), stocked_variant(5)
    expires = timezone.now() + timedelta(minutes=5)
    reservations = stock_reserve(
        lines=[StockLine(a.pk, 3), StockLine(b.pk, 5)], reference="O-1", expires_at=expires
    )
    assert [(r.variant_id, r.quantity, r.reference, r.status, r.expires_at) for r in reservations] == [
        (a.pk, 3, "O-1", "active", expires),
        (b.pk, 5, "O-1", "active", expires),
    ]
    assert Reservation.objects.filter(reference="O-1").count() == 2
    level_a, level_b = level_of(a), level_of(b)
    assert (level_a.on_hand, level_a.reserved, level_a.available) == (10, 3, 7)
    assert (level_b.on_hand, level_b.reserved, level_b.available) == (5, 5, 0)
    movements = StockMovement.objects.filter(kind="reserve").order_by("variant_id")
    assert [
        (m.variant_id, m.quantity, m.on_hand_delta, m.reserved_delta, m.reference) for m in movements
    ] == [
        (a.pk, 3, 0, 3, "O-1"),
        (b.pk, 5, 0, 5, "O-1"),
    ]
    assert_ledger_matches(level_a, level_b)


def test_reserve_default_expiry_comes_from_settings(settings):
    settings.STOCK_RESERVATION_TTL = timedelta(minutes=7)
    variant = stocked_variant(2)
    before = timezone.now()
    (reservation,) = stock_reserve(lines=[StockLine(variant.pk, 1)], reference="O-1")
    assert before + timedelta(minutes=7) <= reservation.expires_at <= timezone.now() + timedelta(minutes=7)


def test_reserve_merges_repeated_lines_of_one_variant():
    variant = stocked_variant(10)
    (reservation,) = stock_reserve(lines=[StockLine(variant.pk, 2), StockLine(variant.pk, 3)], reference="O")
    assert reservation.quantity == 5
    assert level_of(variant).reserved == 5


def test_reserve_is_all_or_nothing_and_lists_every_short_line():
    ok, short1, short2 = stocked_variant(10), stocked_variant(2), stocked_variant(0)
    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(
            lines=[StockLine(ok.pk, 1), StockLine(short1.pk, 3), StockLine(short2.pk, 1)], reference="O-1"
        )
    assert exc.value.details == {
        "lines": sorted(
            [
                {"variant": short1.pk, "requested": 3, "available": 2},
                {"variant": short2.pk, "requested": 1, "available": 0},
            ],
            key=lambda line: line["variant"],
        )
    }
    assert not Reservation.objects.exists()
    assert not StockMovement.objects.filter(kind="reserve").exists()
    assert level_of(ok).reserved == 0


def test_reserve_of_an_unknown_variant_is_short_with_nothing_available():
    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(lines=[StockLine(987_654, 1)], reference="O-1")
    assert exc.value.details == {"lines": [{"variant": 987_654, "requested": 1, "available": 0}]}


@pytest.mark.parametrize("quantity", [0, -2])
def test_reserve_refuses_zero_or_negative_lines(quantity):
    variant = stocked_variant(5)
    with pytest.raises(ValidationFailed):
        stock_reserve(lines=[StockLine(variant.pk, quantity)], reference="O-1")
    assert not Reservation.objects.exists()


def test_reserve_refuses_empty_lines_and_blank_reference():
    variant = stocked_variant(5)
    with pytest.raises(ValidationFailed) as exc:
        stock_reserve(lines=[], reference="O-1")
    assert "lines" in exc.value.details
    with pytest.raises(ValidationFailed) as exc:
        stock_reserve(lines=[StockLine(variant.pk, 1)], reference="")
    assert "reference" in exc.value.details
    assert level_of(variant).reserved == 0


def test_reserve_ignores_stock_in_non_sellable_locations():
    backroom = LocationFactory(is_sellable=False)
    variant = stocked_variant(2)
    stock_receive(variant_id=variant.pk, quantity=50, location_id=backroom.pk)
    with pytest.raises(InsufficientStock) as exc:
        stock_reserve(lines=[StockLine(variant.pk, 3)], reference="O-1")
    assert exc.value.details["lines"] == [{"variant": variant.pk, "requested": 3, "available": 2}]
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-2")
    assert level_of(variant, backroom).reserved == 0


def test_reserve_splits_a_line_across_locations_default_first_then_most_available():
    store_small, store_big = LocationFactory(code="S1"), LocationFactory(code="S2")
    variant = stocked_variant(3)  # default location
    stock_receive(variant_id=variant.pk, quantity=2, location_id=store_small.pk)
    stock_receive(variant_id=variant.pk, quantity=4, location_id=store_big.pk)
    reservations = stock_reserve(lines=[StockLine(variant.pk, 8)], reference="O-1")
    assert [(r.location_id, r.quantity) for r in reservations] == [
        (default_location().pk, 3),
        (store_big.pk, 4),
        (store_small.pk, 1),
    ]
    assert level_of(variant).reserved == 3
    assert level_of(variant, store_big).reserved == 4
    assert level_of(variant, store_small).reserved == 1
    assert_ledger_matches()


def test_reserve_skips_locations_with_nothing_available():
    store = LocationFactory()
    variant = stocked_variant(0)
    StockLevelFactory(variant=variant)  # empty default level
    stock_receive(variant_id=variant.pk, quantity=2, location_id=store.pk)
    reservations = stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-1")
    assert [(r.location_id, r.quantity) for r in reservations] == [(store.pk, 2)]
    assert StockMovement.objects.filter(kind="reserve").count() == 1


# --- release and sale ---------------------------------------------------------------------------


def test_release_returns_units_and_is_idempotent():
    variant = stocked_variant(5)
    stock_reserve(lines=[StockLine(variant.pk, 4)], reference="O-1")
    released = stock_release(reference="O-1")
    assert [(r.quantity, r.status) for r in released] == [(4, "released")]
    assert released[0].closed_at is not None
    level = level_of(variant)
    assert (level.on_hand, level.reserved) == (5, 0)
    movement = StockMovement.objects.get(kind="release")
    assert (movement.quantity, movement.on_hand_delta, movement.reserved_delta, movement.reference) == (
        4,
        0,
        -4,
        "O-1",
    )
    assert stock_release(reference="O-1") == []
    assert StockMovement.objects.filter(kind="release").count() == 1
    assert_ledger_matches(level)


def test_commit_sale_removes_units_from_on_hand_and_is_idempotent():
    a, b = stocked_variant(5), stocked_variant(5)
    stock_reserve(lines=[StockLine(a.pk, 2), StockLine(b.pk, 1)], reference="O-1")
    sold = stock_commit_sale(reference="O-1")
    assert sorted((r.variant_id, r.status) for r in sold) == [(a.pk, "committed"), (b.pk, "committed")]
    assert (level_of(a).on_hand, level_of(a).reserved) == (3, 0)
    assert (level_of(b).on_hand, level_of(b).reserved) == (4, 0)
    sales = StockMovement.objects.filter(kind="sale").order_by("variant_id")
    assert [(m.quantity, m.on_hand_delta, m.reserved_delta) for m in sales] == [(2, -2, -2), (1, -1, -1)]
    assert stock_commit_sale(reference="O-1") == []
    assert StockMovement.objects.filter(kind="sale").count() == 2
    assert_ledger_matches()


def test_commit_after_release_sells_nothing_and_release_after_commit_releases_nothing():
    variant = stocked_variant(5)
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-1")
    stock_release(reference="O-1")
    assert stock_commit_sale(reference="O-1") == []
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-2")
    stock_commit_sale(reference="O-2")
    assert stock_release(reference="O-2") == []
    level = level_of(variant)
    assert (level.on_hand, level.reserved) == (3, 0)
    assert_ledger_matches(level)


def test_release_of_an_unknown_reference_does_nothing():
    assert stock_release(reference="nope") == []
    assert stock_commit_sale(reference="nope") == []
    assert not StockMovement.objects.exists()


def test_release_touches_only_its_own_reference():
    variant = stocked_variant(10)
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-1")
    stock_reserve(lines=[StockLine(variant.pk, 3)], reference="O-2")
    stock_release(reference="O-1")
    assert level_of(variant).reserved == 3
    assert Reservation.objects.get(reference="O-2").status == "active"


def test_sale_across_split_locations_decrements_each_location():
    store = LocationFactory()
    variant = stocked_variant(1)
    stock_receive(variant_id=variant.pk, quantity=2, location_id=store.pk)
    stock_reserve(lines=[StockLine(variant.pk, 3)], reference="O-1")
    stock_commit_sale(reference="O-1")
    assert level_of(variant).on_hand == 0
    assert level_of(variant, store).on_hand == 0
    assert_ledger_matches()


# --- expiry -------------------------------------------------------------------------------------


def test_expired_reservations_are_released_and_live_ones_kept():
    variant = stocked_variant(10)
    past = timezone.now() - timedelta(minutes=1)
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="OLD-1", expires_at=past)
    stock_reserve(lines=[StockLine(variant.pk, 3)], reference="OLD-2", expires_at=past)
    stock_reserve(lines=[StockLine(variant.pk, 4)], reference="LIVE")
    assert reservations_release_expired() == 2
    assert level_of(variant).reserved == 4
    assert set(Reservation.objects.filter(status="released").values_list("reference", flat=True)) == {
        "OLD-1",
        "OLD-2",
    }
    assert set(StockMovement.objects.filter(kind="release").values_list("reason", flat=True)) == {
        "reservation expired"
    }
    assert reservations_release_expired() == 0
    assert_ledger_matches()


def test_expiry_releases_only_the_expired_part_of_a_reference():
    variant = stocked_variant(10)
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-1", expires_at=timezone.now() - timedelta(1))
    stock_reserve(lines=[StockLine(variant.pk, 3)], reference="O-1")
    reservations_release_expired()
    assert level_of(variant).reserved == 3
    assert Reservation.objects.get(reference="O-1", status="active").quantity == 3


def test_expiry_skips_committed_reservations_and_honours_limit_and_now():
    variant = stocked_variant(10)
    soon = timezone.now() + timedelta(minutes=1)
    stock_reserve(lines=[StockLine(variant.pk, 1)], reference="SOLD", expires_at=soon)
    stock_commit_sale(reference="SOLD")
    for ref in ("A", "B", "C"):
        stock_reserve(lines=[StockLine(variant.pk, 1)], reference=ref, expires_at=soon)
    assert reservations_release_expired() == 0  # not expired yet
    later = timezone.now() + timedelta(minutes=2)
    assert reservations_release_expired(now=later, limit=2) == 2
    assert reservations_release_expired(now=later) == 1
    level = level_of(variant)
    assert (level.on_hand, level.reserved) == (9, 0)
    assert_ledger_matches(level)


def test_one_failing_expired_reference_does_not_block_the_others(monkeypatch):
    from apps.inventory.services import stock as stock_module

    variant = stocked_variant(10)
    past = timezone.now() - timedelta(minutes=1)
    stock_reserve(lines=[StockLine(variant.pk, 1)], reference="BAD", expires_at=past)
    stock_reserve(lines=[StockLine(variant.pk, 1)], reference="GOOD", expires_at=past)
    real = stock_module._close_reservations

    def flaky(**kwargs):
        if kwargs["reference"] == "BAD":
            raise RuntimeError("boom")
        return real(**kwargs)

    monkeypatch.setattr(stock_module, "_close_reservations", flaky)
    assert reservations_release_expired() == 1
    assert Reservation.objects.get(reference="BAD").status == "active"
    assert Reservation.objects.get(reference="GOOD").status == "released"
    assert_ledger_matches()


def test_check_constraints_surface_as_insufficient_stock(monkeypatch):
    """If the Python checks were bypassed, the database CHECK still refuses — as a 409, not a 500."""
    from apps.inventory.services import stock as stock_module

    variant = stocked_variant(1)

    def unchecked(level, *, kind, quantity, on_hand_delta, reserved_delta, **kwargs):
        level.on_hand += on_hand_delta
        level.save(update_fields=["on_hand"])
        raise AssertionError("unreachable: the UPDATE violates stock_on_hand_non_negative")

    monkeypatch.setattr(stock_module, "_change", unchecked)
    with pytest.raises(InsufficientStock):
        stock_adjust(variant_id=variant.pk, quantity=-5)
    assert level_of(variant).on_hand == 1


def test_default_location_is_recreated_when_no_location_exists_at_all():
    Location.objects.all().delete()
    location = default_location()
    assert (location.code, location.is_default, location.is_sellable) == ("MAIN", True, True)
    variant = VariantFactory()
    stock_receive(variant_id=variant.pk, quantity=1)
    assert level_of(variant).location == location


def test_variants_available_counts_sellable_locations_only(django_assert_num_queries):
    from apps.inventory.selectors import variants_available

    backroom, store = LocationFactory(is_sellable=False), LocationFactory()
    a = stocked_variant(5)
    stock_receive(variant_id=a.pk, quantity=7, location_id=store.pk)
    stock_receive(variant_id=a.pk, quantity=100, location_id=backroom.pk)
    stock_reserve(lines=[StockLine(a.pk, 2)], reference="O-1")
    b = VariantFactory()
    with django_assert_num_queries(1):
        assert variants_available([a.pk, b.pk]) == {a.pk: 10, b.pk: 0}


@pytest.mark.postgres
def test_reserve_locks_only_stock_rows_not_the_joined_locations():
    """Locking the location rows too would serialise every reservation in the shop on one row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    variant = stocked_variant(3)
    with CaptureQueriesContext(connection) as ctx:
        stock_reserve(lines=[StockLine(variant.pk, 1)], reference="O-1")
    locking = [q["sql"] for q in ctx.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 1
    sql = " ".join(locking[0].split())
    assert "FROM inventory_stocklevel s JOIN inventory_location l" in sql
    assert sql.endswith("ORDER BY s.id FOR UPDATE OF s")  # the stock rows, in primary-key order
