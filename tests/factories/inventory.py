from datetime import UTC

import factory
from django.db.models import Sum

from apps.inventory.models import Location, ReorderAlert, Reservation, StockLevel, StockMovement
from tests.factories.catalog import VariantFactory


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"LOC{n}")
    name = factory.Sequence(lambda n: f"Location {n}")
    kind = Location.Kind.STORE


class StockLevelFactory(factory.django.DjangoModelFactory):
    """A level at the default location unless one is given.

    It writes the row directly (no movement): use `stocked_variant` / the services when the ledger
    must match.
    """

    class Meta:
        model = StockLevel
        django_get_or_create = ("variant", "location")

    variant = factory.SubFactory(VariantFactory)
    location = factory.LazyFunction(lambda: Location.objects.get(is_default=True))
    on_hand = 0
    reserved = 0


def stocked_variant(quantity: int = 10, *, location=None, reorder_point: int = 0, **variant_kwargs):
    """A variant with `quantity` units received (through the ledger) at `location` or the default one."""
    from apps.inventory.services import stock_level_set_reorder, stock_receive

    variant = VariantFactory(**variant_kwargs)
    if quantity:
        movement = stock_receive(
            variant_id=variant.pk,
            quantity=quantity,
            location_id=location.pk if location else None,
            reason="test stock",
        )
        if reorder_point:
            level = StockLevel.objects.get(variant_id=variant.pk, location_id=movement.location_id)
            stock_level_set_reorder(level_id=level.pk, reorder_point=reorder_point)
    return variant


def level_of(variant, location=None) -> StockLevel:
    """The (fresh) stock level of `variant` at `location` or the default location."""
    location = location or Location.objects.get(is_default=True)
    return StockLevel.objects.get(variant=variant, location=location)


def ledger_totals(level: StockLevel) -> tuple[int, int]:
    """(sum of on_hand deltas, sum of reserved deltas) of a level's movements."""
    totals = StockMovement.objects.filter(
        variant_id=level.variant_id, location_id=level.location_id
    ).aggregate(on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta"))
    return totals["on_hand"] or 0, totals["reserved"] or 0


def assert_ledger_matches(*levels: StockLevel) -> None:
    """Every given level (or every level when none given) equals the sum of its movements."""
    for level in levels or StockLevel.objects.all():
        level.refresh_from_db()
        assert ledger_totals(level) == (level.on_hand, level.reserved), (
            f"level {level.pk} is {level.on_hand}/{level.reserved}, ledger says {ledger_totals(level)}"
        )


class ReservationFactory(factory.django.DjangoModelFactory):
    """A bare reservation row (no stock effect): for admin and selector tests."""

    class Meta:
        model = Reservation

    variant = factory.SubFactory(VariantFactory)
    location = factory.LazyFunction(lambda: Location.objects.get(is_default=True))
    quantity = 1
    reference = factory.Sequence(lambda n: f"REF-{n}")
    expires_at = factory.Faker("future_datetime", tzinfo=UTC)


class ReorderAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReorderAlert

    stock_level = factory.SubFactory(StockLevelFactory)
    available = 0
    reorder_point = 5
    suggested_qty = 10
