import uuid
from datetime import datetime

import factory
from django.utils import timezone

from apps.engagement.models import Event
from apps.exposure.models import ExposureExperiment, ExposurePin, ExposureVariant
from tests.factories.catalog import ProductFactory


def make_event(
    product,
    type: str = "view",
    *,
    occurred_at: datetime,
    customer=None,
    anonymous_id: str = "",
    exposure_id=None,
    position: int | None = None,
    received_at: datetime | None = None,
) -> Event:
    """One raw engagement event (the engagement app owns ingestion; scoring only reads the table)."""
    return Event.objects.create(
        event_id=uuid.uuid4(),
        type=type,
        product_id=getattr(product, "pk", product),
        customer=customer,
        anonymous_id=anonymous_id,
        occurred_at=occurred_at,
        bucket_hour=occurred_at.replace(minute=0, second=0, microsecond=0),
        received_at=received_at or timezone.now(),
        exposure_id=exposure_id,
        position=position,
    )


class ExposurePinFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExposurePin

    product = factory.SubFactory(ProductFactory)
    context = "home"
    category = None
    position = 1


class ExposureExperimentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExposureExperiment

    key = factory.Sequence(lambda n: f"weights-{n}")
    name = factory.Sequence(lambda n: f"Weights test {n}")
    is_active = True


class ExposureVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ExposureVariant

    experiment = factory.SubFactory(ExposureExperimentFactory)
    key = factory.Sequence(lambda n: f"v{n}")
    traffic_share = 50
    alpha = 0.7
    w_cold = 1 / 3
    w_profit = 1 / 3
    w_fresh = 1 / 3
