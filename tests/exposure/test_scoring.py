import io
import threading
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from apps.catalog.models import Product
from apps.engagement.models import Event
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
    # normalisation: popularity by the power of two above its maximum (32); freshness relative to the end
    # of the newest product's UTC day (C, created 14 h before midnight); cold and profit by their maximum
    fresh = [2 ** (-(days + 14 / 24) / 14) for days in (14, 28, 0)]
    assert (ra.popularity_norm, rb.popularity_norm) == (pytest.approx(20.5 / 32), pytest.approx(0.75 / 32))
    assert (ra.cold_norm, rb.cold_norm) == (pytest.approx(2 ** (-1 / 50)), 1.0)
    assert (ra.profit_norm, rb.profit_norm) == (pytest.approx(1.0), pytest.approx(0.625))
    assert [r.freshness_norm for r in (ra, rb, rc)] == [pytest.approx(f) for f in fresh]
    # exposure = 0.7·pop + 0.3·(⅓·cold + ⅓·profit + ⅓·fresh)
    assert ra.exposure_score == pytest.approx(0.7 * 20.5 / 32 + 0.3 * (2 ** (-1 / 50) + 1 + fresh[0]) / 3)
    assert rb.exposure_score == pytest.approx(0.7 * 0.75 / 32 + 0.3 * (1 + 0.625 + fresh[1]) / 3)
    assert rc.exposure_score == pytest.approx(0.3 * (0 + 0 + fresh[2]) / 3)
    assert ra.computed_at == AS_OF
    assert ScoringState.objects.get().last_event_id == max(
        e
        for e in __import__("apps.engagement.models", fromlist=["Event"]).Event.objects.values_list(
            "id", flat=True
        )
    )


def _snapshot():
    return list(ProductRanking.objects.order_by("product_id").values())


def test_second_run_in_the_same_hour_changes_nothing(catalog):
    scoring_run(now=NOW)
    before = _snapshot()

    again = scoring_run(now=NOW + timedelta(minutes=20))

    assert (again.events_processed, again.products_changed, again.products_scored) == (0, 0, 3)
    assert again.computed_at == AS_OF
    assert _snapshot() == before


def test_unchanged_rows_keep_their_snapshot_and_new_events_rescore_with_decay(catalog):
    a, b, _ = catalog
    scoring_run(now=NOW)

    quiet = scoring_run(now=NOW + timedelta(hours=72))
    # Only B changed: its click of six days before the first run has left the 7-day window.
    assert (quiet.events_processed, quiet.products_changed) == (0, 1)
    assert ProductRanking.objects.get(product=a).computed_at == AS_OF
    assert ProductRanking.objects.get(product=b).clicks_7d == 0

    make_event(b, "purchase", occurred_at=AS_OF + timedelta(hours=72))
    busy = scoring_run(now=NOW + timedelta(hours=72, minutes=5))

    # B's landmark sum grew past 32, so the normaliser moved to 64: A and B were rescored (C has no
    # popularity, its row is unchanged).
    assert (busy.events_processed, busy.products_changed) == (1, 2)
    ra, rb = ProductRanking.objects.get(product=a), ProductRanking.objects.get(product=b)
    assert ra.popularity_score == pytest.approx(20.5 / 2)  # one half-life later
    assert rb.popularity_score == pytest.approx(0.75 / 2 + 20)
    assert (ra.popularity_norm, rb.popularity_norm) == (pytest.approx(20.5 / 64), pytest.approx(40.75 / 64))
    assert ra.freshness_score == pytest.approx(2 ** (-17 / 14))
    assert ra.computed_at == AS_OF + timedelta(hours=72)


def test_late_event_is_counted_by_the_next_run_only_once(catalog):
    a, _, _ = catalog
    scoring_run(now=NOW)
    # Arrives after the run but happened a day earlier: the watermark is ingestion order, not event time.
    make_event(a, "add_to_cart", occurred_at=AS_OF - timedelta(hours=24))

    late = scoring_run(now=NOW + timedelta(minutes=5))
    repeat = scoring_run(now=NOW + timedelta(minutes=10))

    assert (late.events_processed, repeat.events_processed) == (1, 0)
    expected = 20.5 + 8 * 2 ** (-24 / 72)
    assert ProductRanking.objects.get(product=a).popularity_score == pytest.approx(expected)


def test_todays_views_and_clicks_are_added_once_by_each_run_and_recounted_the_next_day(catalog):
    _, b, _ = catalog
    scoring_run(now=NOW)
    # Today, earlier in the day, and in the current hour (after the run's top of the hour).
    make_event(b, "view", occurred_at=AS_OF - timedelta(hours=3))
    make_event(b, "click", occurred_at=AS_OF - timedelta(hours=3))
    make_event(b, "view", occurred_at=NOW)

    first = scoring_run(now=NOW + timedelta(minutes=5))
    rb = ProductRanking.objects.get(product=b)
    assert (first.events_processed, rb.views_today, rb.impressions_7d, rb.clicks_7d) == (3, 2, 2, 2)
    assert rb.cold_score == pytest.approx(2 ** (-2 / 50))

    make_event(b, "view", occurred_at=NOW + timedelta(minutes=40))
    second = scoring_run(now=NOW + timedelta(hours=1))
    rb.refresh_from_db()
    assert (second.events_processed, rb.views_today, rb.impressions_7d, rb.clicks_7d) == (1, 3, 3, 2)

    # The next day's first run moves today's events into the 7-day base and starts today at 0.
    scoring_run(now=NOW + timedelta(days=1))
    rb.refresh_from_db()
    assert (rb.impressions_base, rb.views_today, rb.impressions_7d) == (3, 0, 3)
    assert (rb.clicks_base, rb.clicks_7d) == (2, 2)


def test_events_younger_than_the_ingest_lag_wait_for_the_next_run(catalog, settings):
    a, _, _ = catalog
    scoring_run(now=NOW)
    settings.SCORING_INGEST_LAG_SECONDS = 60
    event = make_event(a, "purchase", occurred_at=AS_OF)

    assert scoring_run(now=NOW).events_processed == 0
    Event.objects.filter(pk=event.pk).update(received_at=timezone.now() - timedelta(minutes=2))
    assert scoring_run(now=NOW).events_processed == 1
    assert ProductRanking.objects.get(product=a).popularity_score == pytest.approx(40.5)


def test_relandmark_keeps_decayed_values_and_moves_the_landmark(catalog, settings):
    a, b, _ = catalog
    settings.SCORING_RELANDMARK_HALF_LIVES = 1
    scoring_run(now=NOW)
    later = NOW + timedelta(hours=144)

    scoring_run(now=later)

    state = ScoringState.objects.get()
    assert state.landmark == AS_OF + timedelta(hours=144)
    ra = ProductRanking.objects.get(product=a)
    # Relative to the new landmark the stored sum is the decayed value itself.
    assert ra.popularity_raw == pytest.approx(20.5 / 4)
    assert ra.popularity_score == pytest.approx(20.5 / 4)
    make_event(b, "purchase", occurred_at=AS_OF + timedelta(hours=144))
    scoring_run(now=later + timedelta(minutes=1))
    assert ProductRanking.objects.get(product=b).popularity_score == pytest.approx(0.75 / 4 + 20)


def test_impressions_count_served_slots_times_serves_plus_views(catalog):
    from apps.exposure.models import ExposureMix, ExposureSlot

    a, b, _ = catalog
    mix = ExposureMix.objects.create(
        exposure_id=uuid.uuid4(),
        context="home",
        variant="default",
        generated_at=AS_OF - timedelta(hours=2),
        expires_at=AS_OF,
        served_count=30,
    )
    ExposureSlot.objects.create(
        exposure_id=mix.exposure_id,
        position=1,
        product=b,
        reason="popular",
        variant="default",
        context="home",
        served_at=mix.generated_at,
    )
    scoring_run(now=NOW)

    rb = ProductRanking.objects.get(product=b)
    assert rb.impressions_7d == 30
    assert rb.cold_score == pytest.approx(2 ** (-30 / 50))
    # B is no longer the coldest: A (one view) is, so A's normalised cold score is 1.
    assert ProductRanking.objects.get(product=a).cold_norm == pytest.approx(1.0)
    assert rb.cold_norm == pytest.approx(2 ** (-30 / 50) / 2 ** (-1 / 50))


def test_inactive_or_sold_out_product_is_not_in_stock(catalog):
    a, b, _ = catalog
    Product.objects.filter(pk=a.pk).update(is_active=False)
    variant = b.variants.get()
    from apps.inventory.models import StockLevel

    StockLevel.objects.filter(variant=variant).update(reserved=5)  # all 5 units reserved
    scoring_run(now=NOW)

    assert list(ProductRanking.objects.filter(in_stock=True)) == []
    assert ProductRanking.objects.get(product=b).available == 0


def test_scoring_run_invalidates_the_exposure_cache(catalog, django_capture_on_commit_callbacks):
    from apps.exposure.services.cache import cache_version

    before, _ = cache_version()
    with django_capture_on_commit_callbacks(execute=True):
        scoring_run(now=NOW)
    after, fallback = cache_version()

    assert after != before and fallback is False


def test_run_scoring_command_prints_a_summary(catalog):
    out = io.StringIO()
    call_command("run_scoring", stdout=out)

    assert out.getvalue().startswith("Scored 3 products (3 changed) from 3 new events in ")
    assert ScoringState.objects.get().last_events_processed == 3


def test_scoring_task_runs_the_job(catalog):
    from apps.exposure.tasks import scoring_run_task

    data = scoring_run_task.delay().get()

    assert data["products_scored"] == 3 and data["events_processed"] == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_do_not_double_count(catalog):
    a, b, _ = catalog
    barrier = threading.Barrier(4)
    results, errors = [], []

    def run():
        try:
            barrier.wait(timeout=10)
            results.append(scoring_run(now=NOW))
        except Exception as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sorted(r.events_processed for r in results) == [0, 0, 0, 3]
    assert ProductRanking.objects.get(product=a).popularity_score == pytest.approx(20.5)
    assert ProductRanking.objects.get(product=b).popularity_score == pytest.approx(0.75)
