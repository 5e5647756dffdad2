import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.catalog.models import Product
from apps.exposure.models import ProductRanking, ScoringState
from apps.exposure.services.scoring import scoring_run
from tests.factories.catalog import VariantFactory
from tests.factories.exposure import make_event
from tests.factories.inventory import stocked_variant

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

NOW = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)
AS_OF = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


def _age(product, days):
    Product.objects.filter(pk=product.pk).update(created_at=AS_OF - timedelta(days=days))


@pytest.fixture
def catalog():
    a = stocked_variant(10, price=Decimal("10.00"), cost=Decimal("6.00")).product
    b = stocked_variant(5, price=Decimal("20.00"), cost=Decimal("15.00")).product
    c = VariantFactory(price=Decimal("8.00"), cost=None).product  # no stock, no cost
    _age(a, 14)
    _age(b, 28)
    _age(c, 0)
    make_event(a, "view", occurred_at=AS_OF - timedelta(hours=72))
    make_event(a, "purchase", occurred_at=AS_OF)
    make_event(b, "click", occurred_at=AS_OF - timedelta(hours=144))
    return a, b, c


def test_first_run_scores_match_hand_computed_values(catalog):
    a, b, c = catalog
    result = scoring_run(now=NOW)

    assert result.products_scored == 3
    assert result.events_processed == 3
    assert result.computed_at == AS_OF
    ra, rb, rc = (ProductRanking.objects.get(product=p) for p in (a, b, c))
    # popularity: view 1·2^(−72/72) + purchase 20·2^0 = 20.5; click 3·2^(−144/72) = 0.75
    assert ra.popularity_score == pytest.approx(20.5)
    assert rb.popularity_score == pytest.approx(0.75)
    assert rc.popularity_score == 0
    # cold: in stock → 2^(−impressions/50); A had one view in the last 7 days; C is out of stock
    assert (ra.impressions_7d, rb.impressions_7d) == (1, 0)
    assert ra.cold_score == pytest.approx(2 ** (-1 / 50))
    assert rb.cold_score == 1.0
    assert rc.cold_score == 0 and rc.in_stock is False
    # profit: margin rate of the cheapest active variant; unknown cost → 0
    assert (ra.profit_score, rb.profit_score, rc.profit_score) == (pytest.approx(0.4), pytest.approx(0.25), 0)
    # freshness: 2^(−age/14 days)
    assert (ra.freshness_score, rb.freshness_score, rc.freshness_score) == (
        pytest.approx(0.5),
        pytest.approx(0.25),
        pytest.approx(1.0),
    )
    # normalisation: each component divided by its maximum over active products
    assert (ra.popularity_norm, rb.popularity_norm) == (pytest.approx(1.0), pytest.approx(0.75 / 20.5))
    assert (ra.cold_norm, rb.cold_norm) == (pytest.approx(2 ** (-1 / 50)), 1.0)
    assert (ra.profit_norm, rb.profit_norm) == (pytest.approx(1.0), pytest.approx(0.625))
    assert (ra.freshness_norm, rb.freshness_norm, rc.freshness_norm) == (
        pytest.approx(0.5),
        pytest.approx(0.25),
        pytest.approx(1.0),
    )
    # exposure = 0.7·pop + 0.3·(⅓·cold + ⅓·profit + ⅓·fresh)
    assert ra.exposure_score == pytest.approx(0.7 * 1 + 0.3 * (2 ** (-1 / 50) + 1 + 0.5) / 3)
    assert rb.exposure_score == pytest.approx(0.7 * 0.75 / 20.5 + 0.3 * (1 + 0.625 + 0.25) / 3)
    assert rc.exposure_score == pytest.approx(0.3 * (0 + 0 + 1) / 3)
    assert ra.computed_at == AS_OF
    assert ScoringState.objects.get().last_event_id == max(
        e
        for e in __import__("apps.engagement.models", fromlist=["Event"]).Event.objects.values_list(
            "id", flat=True
        )
    )
