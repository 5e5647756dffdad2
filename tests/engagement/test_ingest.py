import json
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from prometheus_client import REGISTRY

from apps.engagement.models import Event
from apps.engagement.services import ingest
from tests.engagement.conftest import event
from tests.factories.catalog import ProductFactory

URL = "/api/v1/events"
NOW = datetime(2026, 11, 22, 10, 30, 15, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@pytest.fixture
def frozen_now(monkeypatch):
    """Pin the ingestion clock, so skew and age rules can be checked to the second."""
    monkeypatch.setattr(ingest, "timezone", SimpleNamespace(now=lambda: NOW))
    return NOW


@pytest.fixture
def product(db):
    return ProductFactory()


def post(client, body, **extra):
    return client.post(URL, data=json.dumps(body), content_type="application/json", **extra)


def metric(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_batch_is_stored_with_its_hour_bucket_context_and_anonymous_id(api_client, product, frozen_now):
    exposure_id = uuid.uuid4()
    first = event(
        product.pk,
        "click",
        occurred_at=iso(NOW - timedelta(minutes=45)),
        context={"placement": "home", "position": 3, "exposure_id": str(exposure_id), "variant": "B"},
    )
    second = event(product.pk, "purchase", occurred_at="2026-11-22T11:20:00+02:00")

    response = post(api_client, {"anonymous_id": "anon-42", "events": [first, second]})

    assert response.status_code == 202
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    stored = {str(e.event_id): e for e in Event.objects.all()}
    click, purchase = stored[first["event_id"]], stored[second["event_id"]]
    assert (click.type, click.product_id, click.customer_id, click.anonymous_id) == (
        "click",
        product.pk,
        None,
        "anon-42",
    )
    assert click.occurred_at == NOW - timedelta(minutes=45)
    assert click.bucket_hour == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert click.received_at == NOW
    assert (click.placement, click.position, click.exposure_id, click.experiment_variant) == (
        "home",
        3,
        exposure_id,
        "B",
    )
    # +02:00 is normalised to UTC before the hour is cut.
    assert purchase.occurred_at == datetime(2026, 11, 22, 9, 20, tzinfo=UTC)
    assert purchase.bucket_hour == datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert (purchase.placement, purchase.position, purchase.exposure_id) == ("", None, None)


@pytest.mark.django_db
def test_same_event_id_twice_in_one_batch_is_one_accepted_and_one_duplicate(api_client, product):
    one = event(product.pk)

    response = post(api_client, {"events": [one, dict(one)]})

    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 1, "rejected": []}
    assert Event.objects.count() == 1


@pytest.mark.django_db
def test_resending_a_batch_stores_nothing_twice(api_client, product):
    batch = {"events": [event(product.pk), event(product.pk, "click")]}
    assert post(api_client, batch).json() == {"accepted": 2, "duplicates": 0, "rejected": []}

    again = post(api_client, {"events": [*batch["events"], event(product.pk)]})

    assert again.json() == {"accepted": 1, "duplicates": 2, "rejected": []}
    assert Event.objects.count() == 3


@pytest.mark.django_db
def test_invalid_events_are_rejected_by_index_while_the_rest_are_stored(api_client, product, frozen_now):
    good = event(product.pk)
    body = {
        "events": [
            event(product.pk, event_id="not-a-uuid"),
            good,
            event(product.pk, "like"),
            event(999_999_999),
            event(product.pk, occurred_at="yesterday"),
            event(product.pk, occurred_at=iso(NOW - timedelta(days=7, seconds=1))),
            event(product.pk, context={"position": -1}),
            "view",
            event("abc"),
            event(product.pk, context={"exposure_id": "nope"}),
        ]
    }

    response = post(api_client, body)

    assert response.status_code == 202
    data = response.json()
    assert (data["accepted"], data["duplicates"]) == (1, 0)
    assert [(r["index"], r["code"]) for r in data["rejected"]] == [
        (0, "invalid_event_id"),
        (2, "invalid_type"),
        (3, "unknown_product"),
        (4, "invalid_timestamp"),
        (5, "too_old"),
        (6, "invalid_context"),
        (7, "invalid_event"),
        (8, "unknown_product"),
        (9, "invalid_context"),
    ]
    assert all(r["message"] for r in data["rejected"])
    assert list(Event.objects.values_list("event_id", flat=True)) == [uuid.UUID(good["event_id"])]


@pytest.mark.django_db
def test_event_exactly_seven_days_old_is_still_accepted(api_client, product, frozen_now):
    response = post(api_client, event(product.pk, occurred_at=iso(NOW - timedelta(days=7))))

    assert response.json()["accepted"] == 1
    assert Event.objects.get().occurred_at == NOW - timedelta(days=7)


@pytest.mark.django_db
def test_client_clock_behind_by_over_a_minute_shifts_occurred_at_forward(api_client, product, frozen_now):
    # The client's clock is 5 minutes slow: its "10:25:15" is the server's 10:30:15.
    body = {
        "sent_at": iso(NOW - timedelta(minutes=5)),
        "events": [event(product.pk, occurred_at=iso(NOW - timedelta(minutes=7)))],
    }

    assert post(api_client, body).json()["accepted"] == 1

    assert Event.objects.get().occurred_at == NOW - timedelta(minutes=2)


@pytest.mark.django_db
def test_client_clock_ahead_shifts_occurred_at_back(api_client, product, frozen_now):
    body = {
        "sent_at": iso(NOW + timedelta(hours=2)),
        "events": [event(product.pk, occurred_at=iso(NOW + timedelta(hours=2) - timedelta(seconds=30)))],
    }

    post(api_client, body)

    stored = Event.objects.get()
    assert stored.occurred_at == NOW - timedelta(seconds=30)
    assert stored.bucket_hour == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_skew_within_a_minute_is_left_alone(api_client, product, frozen_now):
    body = {
        "sent_at": iso(NOW - timedelta(seconds=59)),
        "events": [event(product.pk, occurred_at=iso(NOW - timedelta(minutes=3)))],
    }

    post(api_client, body)

    assert Event.objects.get().occurred_at == NOW - timedelta(minutes=3)


@pytest.mark.django_db
def test_skew_correction_can_make_an_event_too_old(api_client, product, frozen_now):
    # The client claims it is 2 days later than the server: its 6-day-old event is 8 days old here.
    body = {
        "sent_at": iso(NOW + timedelta(days=2)),
        "events": [event(product.pk, occurred_at=iso(NOW + timedelta(days=2) - timedelta(days=8)))],
    }

    response = post(api_client, body)

    assert response.json()["rejected"] == [
        {"index": 0, "code": "too_old", "message": "occurred_at is older than the accepted age."}
    ]
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_future_occurred_at_is_clamped_to_now(api_client, product, frozen_now):
    post(api_client, event(product.pk, occurred_at=iso(NOW + timedelta(hours=3))))

    stored = Event.objects.get()
    assert stored.occurred_at == NOW
    assert stored.bucket_hour == datetime(2026, 11, 22, 10, 0, tzinfo=UTC)


@pytest.mark.django_db
def test_missing_occurred_at_means_received_now(api_client, product, frozen_now):
    post(api_client, {"events": [event(product.pk)]})

    assert Event.objects.get().occurred_at == NOW


@pytest.mark.django_db
def test_a_single_event_object_is_accepted(api_client, product):
    single = event(product.pk, "add_to_cart", anonymous_id="anon-1")

    response = post(api_client, single)

    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0, "rejected": []}
    stored = Event.objects.get()
    assert (str(stored.event_id), stored.type) == (single["event_id"], "add_to_cart")
    assert stored.anonymous_id == "anon-1"


@pytest.mark.django_db
def test_authenticated_customer_is_attached(customer_client, customer, product):
    response = post(customer_client, {"anonymous_id": "anon-7", "events": [event(product.pk)]})

    assert response.status_code == 202
    stored = Event.objects.get()
    assert (stored.customer_id, stored.anonymous_id) == (customer.pk, "anon-7")


@pytest.mark.django_db
def test_session_user_is_attached(client, customer, product):
    client.force_login(customer)

    response = post(client, event(product.pk))

    assert response.status_code == 202
    assert Event.objects.get().customer_id == customer.pk


@pytest.mark.django_db
@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
        "curl/8.5.0",
        "python-requests/2.32.3",
        "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari",
    ],
)
def test_known_bots_are_dropped_and_counted(api_client, product, user_agent):
    before_view = metric("engagement_events_bot_dropped_total", type="view")
    before_click = metric("engagement_events_bot_dropped_total", type="click")

    response = post(
        api_client,
        {"events": [event(product.pk), event(product.pk), event(product.pk, "click")]},
        HTTP_USER_AGENT=user_agent,
    )

    assert response.status_code == 202
    assert response.json() == {"accepted": 0, "duplicates": 0, "rejected": []}
    assert not Event.objects.exists()
    assert metric("engagement_events_bot_dropped_total", type="view") == before_view + 2
    assert metric("engagement_events_bot_dropped_total", type="click") == before_click + 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        "okhttp/4.12.0",
        "Mozilla/5.0 (Linux; Android 13; CUBOT X30) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36",
        "",
    ],
)
def test_browsers_and_apps_are_not_bots(api_client, product, user_agent):
    response = post(api_client, event(product.pk), HTTP_USER_AGENT=user_agent)

    assert response.json()["accepted"] == 1


@pytest.mark.django_db
def test_extra_bot_patterns_come_from_settings(api_client, product, settings):
    settings.ENGAGEMENT_BOT_USER_AGENTS = ["acme-monitor"]

    response = post(api_client, event(product.pk), HTTP_USER_AGENT="ACME-Monitor/1.0")

    assert response.json() == {"accepted": 0, "duplicates": 0, "rejected": []}
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_more_than_500_events_is_413_batch_too_large(api_client, product):
    body = {"events": [event(product.pk) for _ in range(501)]}

    response = post(api_client, body)

    assert response.status_code == 413
    assert response.json() == {
        "error": {
            "code": "batch_too_large",
            "message": "At most 500 events per request.",
            "details": {"max_batch": 500, "received": 501},
        }
    }
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_body_over_one_megabyte_is_413_payload_too_large(api_client, product):
    body = {"events": [event(product.pk, context={"placement": "x"})], "padding": "x" * (1024 * 1024)}

    response = post(api_client, body)

    assert response.status_code == 413
    assert response.json() == {
        "error": {"code": "payload_too_large", "message": "The request body is too large.", "details": {}}
    }
    assert not Event.objects.exists()


@pytest.mark.django_db
def test_malformed_json_is_400_invalid(api_client):
    response = api_client.post(URL, data=b"{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"events": []}, "events"),
        ({"events": {"event_id": "x"}}, "events"),
        ({"sent_at": "soon", "events": [{}]}, "sent_at"),
        ({"anonymous_id": "a" * 65, "events": [{}]}, "anonymous_id"),
        (42, "non_field_errors"),
    ],
)
def test_malformed_envelope_is_400_keyed_by_field(api_client, body, field):
    response = post(api_client, body)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["details"]


@pytest.mark.django_db
@pytest.mark.parametrize("prepared", [True, False])
@pytest.mark.parametrize("size", [1, 100, 499])
def test_one_database_round_trip_per_request_whatever_the_batch_size(
    api_client, django_assert_num_queries, settings, size, prepared
):
    settings.ENGAGEMENT_PREPARED_STATEMENTS = prepared
    products = ProductFactory.create_batch(3)
    body = {"events": [event(products[i % 3].pk) for i in range(size)] + [event(999_999_999)]}

    # PostgreSQL: product check + insert in one statement; SQLite: one SELECT and one INSERT.
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        response = post(api_client, body)

    assert response.json()["accepted"] == size
    assert [r["index"] for r in response.json()["rejected"]] == [size]
    assert Event.objects.count() == size


@pytest.mark.django_db
def test_metrics_count_accepted_duplicate_and_rejected_events_by_type(api_client, product):
    before = {
        "accepted": metric("engagement_events_accepted_total", type="click"),
        "duplicate": metric("engagement_events_duplicate_total", type="click"),
        "rejected": metric("engagement_events_rejected_total", type="view", code="unknown_product"),
        "invalid": metric("engagement_events_rejected_total", type="invalid", code="invalid_type"),
        "latency": metric("engagement_ingest_seconds_count"),
    }
    click = event(product.pk, "click")

    post(api_client, {"events": [click, dict(click), event(999_999_999), event(product.pk, "poke")]})

    assert metric("engagement_events_accepted_total", type="click") == before["accepted"] + 1
    assert metric("engagement_events_duplicate_total", type="click") == before["duplicate"] + 1
    rejected = "engagement_events_rejected_total"
    assert metric(rejected, type="view", code="unknown_product") == before["rejected"] + 1
    assert metric(rejected, type="invalid", code="invalid_type") == before["invalid"] + 1
    assert metric("engagement_ingest_seconds_count") == before["latency"] + 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_the_insert_commits_asynchronously_and_repeats_as_prepared(api_client):
    product = ProductFactory()

    responses = [post(api_client, {"events": [event(product.pk), event(product.pk)]}) for _ in range(3)]

    assert [r.json()["accepted"] for r in responses] == [2, 2, 2]
    assert Event.objects.count() == 6
    with connection.cursor() as cursor:
        # set_config(..., true) was local to each insert's own transaction.
        cursor.execute("SHOW synchronous_commit")
        assert cursor.fetchone()[0] == "on"
        cursor.execute(
            "SELECT count(*) FROM pg_prepared_statements WHERE statement LIKE %s", ["%json_to_recordset%"]
        )
        assert cursor.fetchone()[0] == 1
