import pytest
from django.utils import timezone

from apps.exposure import metrics
from apps.exposure.models import ExposureMix
from apps.exposure.selectors import ctr_by_reason, experiment_report
from apps.exposure.services.mix import exposure_get, mix_served_flush
from apps.exposure.services.reports import ctr_gauges_refresh
from apps.exposure.services.scoring import scoring_run
from tests.factories.catalog import CategoryFactory
from tests.factories.exposure import ExposureExperimentFactory, ExposureVariantFactory, make_event
from tests.factories.inventory import stocked_variant

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


@pytest.fixture
def served(settings):
    """A 4-slot home mix served three times (one generation, two cache hits)."""
    settings.EXPOSURE_COLD_SLOTS = 1
    for _ in range(6):
        stocked_variant(10, product__category=CategoryFactory())
    scoring_run()
    first = exposure_get(context="home", limit=4)
    exposure_get(context="home", limit=4)
    exposure_get(context="home", limit=4)
    mix_served_flush()
    return first


def _click(payload, position, type="click"):
    slot = payload["mix"][position - 1]
    make_event(
        slot["product_id"],
        type,
        occurred_at=timezone.now(),
        exposure_id=payload["exposure_id"],
        position=position,
    )


def test_ctr_by_position_counts_serves_and_attributed_clicks(served):
    _click(served, 1)
    _click(served, 1)
    _click(served, 2)
    # A click carrying the exposure_id but on a product that was not in the mix is not attributed.
    make_event(
        stocked_variant(1).product, "click", occurred_at=timezone.now(), exposure_id=served["exposure_id"]
    )

    rows = ctr_gauges_refresh()

    assert ExposureMix.objects.get().served_count == 3
    assert [(r["key"], r["impressions"], r["clicks"]) for r in rows] == [
        (1, 3, 2),
        (2, 3, 1),
        (3, 3, 0),
        (4, 3, 0),
    ]
    assert rows[0]["ctr"] == pytest.approx(2 / 3)
    assert metrics.CTR_BY_POSITION.labels(position="1")._value.get() == pytest.approx(2 / 3)


def test_ctr_by_reason_groups_slots_by_their_reason(served):
    cold_position = next(s["position"] for s in served["mix"] if s["reason"] == "cold_boost")
    _click(served, cold_position)

    rows = {r["key"]: r for r in ctr_by_reason()}

    assert rows["cold_boost"]["impressions"] == 3 and rows["cold_boost"]["clicks"] == 1
    assert sum(r["impressions"] for r in rows.values()) == 12


def test_experiment_report_gives_hit_ratio_and_conversion_per_variant(settings):
    experiment = ExposureExperimentFactory(key="exp")
    ExposureVariantFactory(experiment=experiment, key="a", traffic_share=1)
    for _ in range(4):
        stocked_variant(5)
    scoring_run()
    payload = exposure_get(context="home", limit=4, anonymous_id="visitor")
    exposure_get(context="home", limit=4, anonymous_id="visitor")
    mix_served_flush()
    _click(payload, 1)
    _click(payload, 2)
    _click(payload, 1, type="purchase")

    rows = experiment_report()

    assert rows == [
        {
            "experiment": "exp",
            "variant": "a",
            "impressions": 8,
            "clicks": 2,
            "purchases": 1,
            "exposure_hit_ratio": 2 / 8,
            "conversion_rate": 1 / 2,
        }
    ]
