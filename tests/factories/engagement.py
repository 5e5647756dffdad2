import uuid
from datetime import UTC, datetime

import factory

from apps.engagement.models import Event, EventType
from tests.factories.catalog import ProductFactory


class EventFactory(factory.django.DjangoModelFactory):
    """A raw event; `bucket_hour` follows `occurred_at` unless given."""

    class Meta:
        model = Event

    event_id = factory.LazyFunction(uuid.uuid4)
    type = EventType.VIEW
    product = factory.SubFactory(ProductFactory)
    occurred_at = factory.LazyFunction(lambda: datetime.now(UTC))
    bucket_hour = factory.LazyAttribute(lambda o: o.occurred_at.replace(minute=0, second=0, microsecond=0))
    received_at = factory.LazyFunction(lambda: datetime.now(UTC))
