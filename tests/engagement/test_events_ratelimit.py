import json
import threading

import pytest
from django.db import connection
from prometheus_client import REGISTRY
from rest_framework.test import APIClient

from apps.engagement.models import Event
from shop.ratelimit import get_backend
from tests.engagement.conftest import event
from tests.factories.catalog import ProductFactory

URL = "/api/v1/events"


def post(client, body, **extra):
    return client.post(URL, data=json.dumps(body), content_type="application/json", **extra)


def limited_counter(policy):
    return REGISTRY.get_sample_value("engagement_requests_rate_limited_total", {"policy": policy}) or 0.0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_200_concurrent_posts_against_ten_a_minute_per_ip_admit_exactly_ten(settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "events:ip": [(10, 60)]}
    # 200 threads share one GIL: give Redis replies time to be read, or the limiter would fail open.
    settings.RATELIMIT_SOCKET_TIMEOUT = 10
    if settings.REDIS_URL:
        assert get_backend().name == "redis"
    product = ProductFactory()
    before = limited_counter("events:ip")
    errors_before = REGISTRY.get_sample_value("shop_ratelimit_backend_errors_total", {"backend": "redis"})
    barrier = threading.Barrier(200)
    responses = []
    lock = threading.Lock()

    def worker():
        client = APIClient()
        body = json.dumps({"events": [event(product.pk)]})
        barrier.wait()
        try:
            response = client.post(URL, body, content_type="application/json", REMOTE_ADDR="198.51.100.7")
            with lock:
                responses.append(response)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [202] * 10 + [429] * 190
    assert Event.objects.count() == 10
    refused = [r for r in responses if r.status_code == 429]
    assert all(r.json()["error"]["code"] == "rate_limited" for r in refused)
    assert all(1 <= int(r["Retry-After"]) <= 60 for r in refused)
    assert all(r["RateLimit-Policy"] == '"events:ip/60s";q=10;w=60' for r in refused)
    assert all(r["RateLimit"].startswith('"events:ip/60s";r=0;t=') for r in refused)
    assert limited_counter("events:ip") == before + 190
    errors_after = REGISTRY.get_sample_value("shop_ratelimit_backend_errors_total", {"backend": "redis"})
    assert errors_after == errors_before  # every decision came from Redis, none failed open


@pytest.mark.django_db
def test_allowed_response_carries_both_policies_of_a_customer(customer_client, settings):
    settings.RATE_LIMITS = {
        **settings.RATE_LIMITS,
        "events:ip": [(50, 1), (1200, 60)],
        "events:customer": [(20, 60)],
    }
    product = ProductFactory()

    response = post(customer_client, event(product.pk), REMOTE_ADDR="203.0.113.9")

    assert response.status_code == 202
    assert response["RateLimit-Policy"] == (
        '"events:ip/1s";q=50;w=1, "events:ip/60s";q=1200;w=60, "events:customer/60s";q=20;w=60'
    )
    rate = response["RateLimit"].split(", ")
    assert rate[0] == '"events:ip/1s";r=49;t=1'
    assert rate[1].startswith('"events:customer/60s";r=19;t=')


@pytest.mark.django_db
def test_customer_limit_applies_across_addresses_and_spares_anonymous_callers(
    customer_client, api_client, settings
):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "events:customer": [(2, 60)]}
    product = ProductFactory()
    before = limited_counter("events:customer")

    statuses = [
        post(customer_client, event(product.pk), REMOTE_ADDR=f"203.0.113.{n}").status_code for n in range(3)
    ]
    anonymous = post(api_client, event(product.pk), REMOTE_ADDR="203.0.113.0")

    assert statuses == [202, 202, 429]
    assert anonymous.status_code == 202
    assert Event.objects.count() == 3
    assert limited_counter("events:customer") == before + 1


@pytest.mark.django_db
def test_events_keep_being_accepted_when_redis_is_down(api_client, settings):
    settings.RATELIMIT_REDIS_URL = "redis://127.0.0.1:1/0"
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "events:ip": [(1, 60)]}
    product = ProductFactory()
    before = REGISTRY.get_sample_value("shop_ratelimit_backend_errors_total", {"backend": "redis"}) or 0.0

    responses = [post(api_client, event(product.pk)) for _ in range(3)]

    assert [r.status_code for r in responses] == [202, 202, 202]
    assert Event.objects.count() == 3
    assert responses[0]["RateLimit-Policy"] == '"events:ip/60s";q=1;w=60'
    assert "RateLimit" not in responses[0]
    after = REGISTRY.get_sample_value("shop_ratelimit_backend_errors_total", {"backend": "redis"})
    assert after == before + 3
