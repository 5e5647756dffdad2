"""Reorder alerts (raised once, updated, closed, event published once) and location services."""

import pytest

from apps.inventory.models import Location, ReorderAlert
from apps.inventory.services import (
    StockLine,
    location_create,
    location_set_default,
    location_update,
    reorder_alerts_sync,
    stock_adjust,
    stock_commit_sale,
    stock_level_set_reorder,
    stock_receive,
    stock_release,
    stock_reserve,
)
from shop.events.models import OutboxEvent
from shop.exceptions import NotFound, ValidationFailed
from tests.factories.inventory import LocationFactory, StockLevelFactory, level_of, stocked_variant

pytestmark = pytest.mark.django_db


def _events():
    return list(OutboxEvent.objects.filter(name="stock_below_reorder").order_by("created_at"))


def test_no_alert_while_reorder_point_is_zero():
    variant = stocked_variant(1)
    stock_adjust(variant_id=variant.pk, quantity=-1)
    assert not ReorderAlert.objects.exists()
    assert _events() == []


def test_setting_a_reorder_point_above_available_raises_alert_and_event_once():
    variant = stocked_variant(4)
    level = stock_level_set_reorder(level_id=level_of(variant).pk, reorder_point=5, reorder_qty=20)
    alert = ReorderAlert.objects.get()
    assert (alert.stock_level, alert.available, alert.reorder_point, alert.suggested_qty, alert.is_open) == (
        level,
        4,
        5,
        20,
        True,
    )
    (event,) = _events()
    assert event.payload == {
        "alert_id": alert.pk,
        "stock_level_id": level.pk,
        "variant_id": variant.pk,
        "location_id": level.location_id,
        "available": 4,
        "reorder_point": 5,
        "suggested_qty": 20,
    }
    # Further movements while still below update the same alert without a new event.
    stock_adjust(variant_id=variant.pk, quantity=-1)
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-1")
    alert.refresh_from_db()
    assert ReorderAlert.objects.count() == 1
    assert (alert.available, alert.is_open) == (1, True)
    assert len(_events()) == 1


def test_alert_raised_when_available_reaches_the_point_exactly():
    variant = stocked_variant(10, reorder_point=3)
    assert not ReorderAlert.objects.exists()
    stock_reserve(lines=[StockLine(variant.pk, 7)], reference="O-1")
    alert = ReorderAlert.objects.get(is_open=True)
    assert (alert.available, alert.reorder_point) == (3, 3)
    assert len(_events()) == 1


def test_alert_closes_when_replenished_and_a_new_one_opens_on_the_next_drop():
    variant = stocked_variant(10, reorder_point=5)
    stock_adjust(variant_id=variant.pk, quantity=-6)
    first = ReorderAlert.objects.get(is_open=True)
    stock_receive(variant_id=variant.pk, quantity=10)
    first.refresh_from_db()
    assert (first.is_open, first.available) == (False, 14)
    assert first.closed_at is not None
    stock_adjust(variant_id=variant.pk, quantity=-10)
    second = ReorderAlert.objects.get(is_open=True)
    assert second.pk != first.pk
    assert second.available == 4
    assert len(_events()) == 2


def test_release_and_sale_resync_the_alert():
    variant = stocked_variant(6, reorder_point=4)
    stock_reserve(lines=[StockLine(variant.pk, 3)], reference="O-1")
    assert ReorderAlert.objects.get(is_open=True).available == 3
    stock_release(reference="O-1")
    assert not ReorderAlert.objects.filter(is_open=True).exists()
    stock_reserve(lines=[StockLine(variant.pk, 5)], reference="O-2")
    stock_commit_sale(reference="O-2")
    alert = ReorderAlert.objects.get(is_open=True)
    assert alert.available == 1
    assert len(_events()) == 2


def test_suggested_quantity_is_enough_to_get_above_the_point():
    variant = stocked_variant(2)
    stock_level_set_reorder(level_id=level_of(variant).pk, reorder_point=10, reorder_qty=3)
    assert ReorderAlert.objects.get().suggested_qty == 9  # 10 - 2 + 1 > reorder_qty


def test_changing_the_reorder_point_updates_or_closes_the_open_alert():
    variant = stocked_variant(4, reorder_point=5)
    level = level_of(variant)
    stock_level_set_reorder(level_id=level.pk, reorder_point=8, reorder_qty=2)
    alert = ReorderAlert.objects.get(is_open=True)
    assert (alert.reorder_point, alert.suggested_qty) == (8, 5)
    stock_level_set_reorder(level_id=level.pk, reorder_point=0)
    alert.refresh_from_db()
    assert alert.is_open is False
    assert len(_events()) == 1


def test_set_reorder_changes_only_given_fields_and_validates():
    level = level_of(stocked_variant(10))
    stock_level_set_reorder(level_id=level.pk, reorder_qty=7)
    level.refresh_from_db()
    assert (level.reorder_point, level.reorder_qty) == (0, 7)
    with pytest.raises(ValidationFailed) as exc:
        stock_level_set_reorder(level_id=level.pk, reorder_point=-1)
    assert "reorder_point" in exc.value.details
    with pytest.raises(NotFound):
        stock_level_set_reorder(level_id=999_999, reorder_point=1)


def test_sync_is_a_no_op_for_unchanged_levels_and_an_empty_list():
    variant = stocked_variant(1, reorder_point=5)
    level = level_of(variant)
    assert reorder_alerts_sync(levels=[]) == []
    assert reorder_alerts_sync(levels=[level, level]) == []
    assert ReorderAlert.objects.count() == 1


def test_alerts_are_per_location():
    store = LocationFactory()
    variant = stocked_variant(1, reorder_point=5)
    stock_receive(variant_id=variant.pk, quantity=1, location_id=store.pk)
    assert ReorderAlert.objects.count() == 1
    stock_level_set_reorder(level_id=level_of(variant, store).pk, reorder_point=2)
    assert ReorderAlert.objects.filter(is_open=True).count() == 2


# --- locations ----------------------------------------------------------------------------------


def test_location_create_and_duplicate_code():
    store = location_create(code="BA-01", name="Palermo", kind="store", address="Av. Santa Fe 1")
    assert (store.code, store.kind, store.is_sellable, store.is_default) == ("BA-01", "store", True, False)
    with pytest.raises(ValidationFailed) as exc:
        location_create(code="BA-01", name="Other")
    assert "code" in exc.value.details
    with pytest.raises(ValidationFailed) as exc:
        location_create(code="X", name="Bad kind", kind="shop")
    assert "kind" in exc.value.details


def test_location_create_as_default_moves_the_default():
    old = Location.objects.get(is_default=True)
    new = location_create(code="NEW", name="New", is_default=True)
    old.refresh_from_db()
    assert (old.is_default, new.is_default) == (False, True)
    assert Location.objects.filter(is_default=True).count() == 1


def test_location_update_fields_and_default_rules():
    store = LocationFactory(code="S1")
    location_update(location=store, name="Renamed", is_sellable=False)
    store.refresh_from_db()
    assert (store.name, store.is_sellable) == ("Renamed", False)
    with pytest.raises(ValidationFailed):
        location_update(location=store, code="MAIN")
    default = Location.objects.get(is_default=True)
    with pytest.raises(ValidationFailed) as exc:
        location_update(location=default, is_default=False)
    assert "is_default" in exc.value.details
    with pytest.raises(ValidationFailed):
        location_update(location=store, created_at=None)
    location_update(location=store, is_default=True)
    assert Location.objects.get(is_default=True) == store


def test_set_default_is_idempotent():
    default = Location.objects.get(is_default=True)
    location_set_default(location=default)
    assert Location.objects.filter(is_default=True).get() == default


def test_new_receipts_go_to_the_new_default():
    store = LocationFactory()
    location_set_default(location=store)
    variant = stocked_variant(2)
    assert level_of(variant, store).on_hand == 2
    assert StockLevelFactory._meta.model.objects.filter(variant=variant).count() == 1
