import factory

from apps.inventory.models import Location, StockLevel
from tests.factories.catalog import VariantFactory


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    code = factory.Sequence(lambda n: f"LOC{n}")
    name = factory.Sequence(lambda n: f"Location {n}")
    kind = Location.Kind.STORE


class StockLevelFactory(factory.django.DjangoModelFactory):
    """A level at the default location unless one is given."""

    class Meta:
        model = StockLevel
        django_get_or_create = ("variant", "location")

    variant = factory.SubFactory(VariantFactory)
    location = factory.LazyFunction(lambda: Location.objects.get(is_default=True))
    on_hand = 0
    reserved = 0


def stocked_variant(quantity: int = 10, **variant_kwargs):
    """A variant with `quantity` units received at the default location through the ledger."""
    from apps.inventory.services import stock_receive

    variant = VariantFactory(**variant_kwargs)
    if quantity:
        stock_receive(variant_id=variant.pk, quantity=quantity, reason="test stock")
    return variant
