import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.utils import timezone

from apps.engagement.models import (
    CustomerEngagementDaily,
    Event,
    ProductEngagementDaily,
    ProductEngagementHourly,
    RollupWatermark,
)
from apps.engagement.services import engagement_purge, engagement_rollup, event_safe_high_watermark
from apps.engagement.tasks import engagement_purge_task, engagement_rollup_task
from tests.factories.accounts import UserFactory
from tests.factories.catalog import CategoryFactory, ProductFactory
from tests.factories.engagement import EventFactory

# Two days ago: inside the 7-day ingestion window and the 30-day retention.
D = (timezone.now() - timedelta(days=2)).date()


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


@pytest.fixture
def world(db):
    c1, c2 = CategoryFactory(), CategoryFactory()
    p1, p2, p3 = ProductFactory(category=c1), ProductFactory(category=c1), ProductFactory(category=c2)
    user = UserFactory()
    anon = "anon-1"
    spec = [
        (p1, "view", at(D, 10, 5), user, ""),
        (p1, "view", at(D, 10, 20), user, "anon-1"),  # signed in: attributed to the customer
        (p1, "click", at(D, 10, 40), user, ""),
        (p1, "view", at(D, 11, 0), None, anon),
        (p1, "add_to_cart", at(D, 11, 30), None, anon),
        (p2, "view", at(D, 10, 10), None, anon),
        (p2, "purchase", at(D, 10, 11), user, ""),
        (p3, "view", at(D + timedelta(days=1), 9, 0), user, ""),
        (p3, "click", at(D + timedelta(days=1), 9, 59), None, ""),  # no subject: product counts only
    ]
    for product, kind, moment, customer, anonymous_id in spec:
        EventFactory(
            product=product, type=kind, occurred_at=moment, customer=customer, anonymous_id=anonymous_id
        )
    return {"c1": c1, "c2": c2, "p1": p1, "p2": p2, "p3": p3, "user": user, "anon": anon}


def hourly_table():
    return {
        (h.product_id, h.bucket_hour): (h.views, h.clicks, h.add_to_cart, h.purchases)
        for h in ProductEngagementHourly.objects.all()
    }


def daily_table():
    return {
        (d.product_id, d.day): (d.views, d.clicks, d.add_to_cart, d.purchases, round(d.ctr, 6))
        for d in ProductEngagementDaily.objects.all()
    }


def customer_table():
    return {
        (c.customer_id, c.anonymous_id, c.day): (
            c.views,
            c.clicks,
            c.add_to_cart,
            c.purchases,
            {k: float(v) for k, v in c.category_affinities.items()},
        )
        for c in CustomerEngagementDaily.objects.all()
    }


def test_rollup_matches_hand_computed_counts_ctr_and_affinities(world):
    w = world
    d1 = D + timedelta(days=1)

    result = engagement_rollup()

    assert (result.events, result.watermark) == (9, Event.objects.order_by("-id").first().id)
    assert hourly_table() == {
        (w["p1"].pk, at(D, 10)): (2, 1, 0, 0),
        (w["p1"].pk, at(D, 11)): (1, 0, 1, 0),
        (w["p2"].pk, at(D, 10)): (1, 0, 0, 1),
        (w["p3"].pk, at(d1, 9)): (1, 1, 0, 0),
    }
    assert daily_table() == {
        (w["p1"].pk, D): (3, 1, 1, 0, round(1 / 3, 6)),
        (w["p2"].pk, D): (1, 0, 0, 1, 0.0),
        (w["p3"].pk, d1): (1, 1, 0, 0, 1.0),
    }
    c1, c2 = str(w["c1"].pk), str(w["c2"].pk)
    assert customer_table() == {
        # view 1 + view 1 + click 3 on c1, purchase 20 on c1
        (w["user"].pk, "", D): (2, 1, 0, 1, {c1: 25.0}),
        (w["user"].pk, "", d1): (1, 0, 0, 0, {c2: 1.0}),
        # view 1 + add_to_cart 8 + view 1, all on c1
        (None, "anon-1", D): (2, 0, 1, 0, {c1: 10.0}),
    }


def test_rerunning_the_rollup_changes_nothing(world):
    engagement_rollup()
    before = (hourly_table(), daily_table(), customer_table())

    again = engagement_rollup()

    assert again.events == 0
    assert (hourly_table(), daily_table(), customer_table()) == before


def test_late_event_for_an_old_hour_updates_that_hour_day_and_customer(world):
    w = world
    engagement_rollup()
    # Arrives after the run, for 10:50 on day D: ingestion order, not event time, drives the rollup.
    EventFactory(product=w["p1"], type="click", occurred_at=at(D, 10, 50), customer=w["user"])
    EventFactory(product=w["p3"], type="add_to_cart", occurred_at=at(D, 12, 0), customer=w["user"])

    result = engagement_rollup()

    assert result.events == 2
    hourly = hourly_table()
    assert hourly[(w["p1"].pk, at(D, 10))] == (2, 2, 0, 0)
    assert hourly[(w["p3"].pk, at(D, 12))] == (0, 0, 1, 0)
    daily = daily_table()
    assert daily[(w["p1"].pk, D)] == (3, 2, 1, 0, round(2 / 3, 6))
    assert daily[(w["p3"].pk, D)] == (0, 0, 1, 0, 0.0)
    c1, c2 = str(w["c1"].pk), str(w["c2"].pk)
    assert customer_table()[(w["user"].pk, "", D)] == (2, 2, 1, 1, {c1: 28.0, c2: 8.0})


def test_rollup_uses_the_configured_event_weights(world, settings):
    settings.SCORING_EVENT_WEIGHTS = {"view": 0.5, "click": 2.0, "add_to_cart": 4.0, "purchase": 10.0}

    engagement_rollup()

    c1 = str(world["c1"].pk)
    assert customer_table()[(None, "anon-1", D)][4] == {c1: 0.5 + 4.0 + 0.5}


def test_watermark_is_stored_and_events_are_rolled_up_in_chunks(world):
    result = engagement_rollup(chunk_size=2)

    last_id = Event.objects.order_by("-id").values_list("id", flat=True).first()
    assert RollupWatermark.objects.get(name="engagement_rollup").last_event_id == last_id == result.watermark
    assert result.events == 9
    assert daily_table()[(world["p1"].pk, D)] == (3, 1, 1, 0, round(1 / 3, 6))


def test_events_of_deleted_products_count_for_the_product_but_give_no_affinity(db):
    user = UserFactory()
    product = ProductFactory()
    EventFactory(product=product, customer=user, occurred_at=at(D, 8))
    product_id = product.pk
    with connection.cursor() as cursor:  # gone from the catalog, its raw events stay (no FK constraint)
        cursor.execute("DELETE FROM catalog_product WHERE id = %s", [product_id])

    engagement_rollup()

    assert daily_table() == {(product_id, D): (1, 0, 0, 0, 0.0)}
    assert customer_table() == {(user.pk, "", D): (1, 0, 0, 0, {})}


def test_purge_deletes_rolled_up_raw_events_past_retention_and_keeps_aggregates(db, settings):
    settings.ENGAGEMENT_RAW_RETENTION = timedelta(days=30)
    now = timezone.now()
    old = EventFactory(occurred_at=now - timedelta(days=31))
    recent = EventFactory(occurred_at=now - timedelta(days=29))
    engagement_rollup()
    not_rolled_up = EventFactory(occurred_at=now - timedelta(days=40))

    deleted = engagement_purge(batch_size=1)

    assert deleted == 1
    assert set(Event.objects.values_list("id", flat=True)) == {recent.id, not_rolled_up.id}
    assert ProductEngagementDaily.objects.filter(product_id=old.product_id).get().views == 1
    assert ProductEngagementHourly.objects.filter(product_id=old.product_id).count() == 1


def test_purge_deletes_in_batches(db, settings):
    settings.ENGAGEMENT_RAW_RETENTION = timedelta(days=30)
    product = ProductFactory()
    for _ in range(5):
        EventFactory(product=product, occurred_at=timezone.now() - timedelta(days=60))
    engagement_rollup()

    assert engagement_purge(batch_size=2) == 5
    assert not Event.objects.exists()


def test_tasks_run_the_services(world):
    assert engagement_rollup_task.delay().get() == {
        "events": 9,
        "watermark": Event.objects.order_by("-id").first().id,
    }
    assert engagement_purge_task.delay().get() == 0  # nothing is past retention yet (D is 2 days old)


def test_management_command_prints_a_summary(world, capsys):
    call_command("engagement_rollup", "--purge")

    out = capsys.readouterr().out
    assert "Rolled up 9 events (hourly rows 4, daily rows 3, customer rows 3)" in out
    assert "Purged 0 raw events past retention." in out


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_high_watermark_waits_for_an_insert_still_in_flight():
    product = ProductFactory()
    inserted, release = threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def writer():
        try:
            with transaction.atomic():
                EventFactory(product=product)
                inserted.set()
                release.wait(10)
        finally:
            connection.close()

    def reader():
        try:
            seen["high"] = event_safe_high_watermark()
        finally:
            connection.close()

    threads = [threading.Thread(target=writer), threading.Thread(target=reader)]
    threads[0].start()
    assert inserted.wait(10)
    threads[1].start()
    threads[1].join(0.5)
    assert threads[1].is_alive()  # the uncommitted insert holds the reader back
    release.set()
    for thread in threads:
        thread.join(10)

    assert seen["high"] == Event.objects.get().id
