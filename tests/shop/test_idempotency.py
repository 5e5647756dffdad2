"""Idempotency keys: replay, 422 on a different body, 409 while in flight, one effect under concurrency."""

import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from shop.api.idempotency import idempotency_keys_purge
from shop.api.models import IdempotencyKey
from shop.api.tasks import idempotency_cleanup_task
from shop.events.models import OutboxEvent
from tests.conftest import auth_client
from tests.factories.accounts import UserFactory

pytestmark = pytest.mark.urls("tests.shop.kernel_views")


def post(client, body, key):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post("/effect", body, format="json", **headers)


@pytest.mark.django_db
def test_missing_key_is_400_idempotency_key_required_and_runs_nothing(customer_client):
    response = post(customer_client, {"value": 1}, None)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "idempotency_key_required"
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_repeat_with_same_body_replays_first_response_without_second_effect(customer_client):
    first = post(customer_client, {"value": 1}, "key-1")
    second = post(customer_client, {"value": 1}, "key-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert OutboxEvent.objects.filter(name="test_effect").count() == 1


@pytest.mark.django_db
def test_same_body_with_keys_in_other_order_is_the_same_request(customer_client):
    post(customer_client, {"value": 1, "other": "x"}, "key-order")
    again = customer_client.post(
        "/effect",
        data='{"other": "x", "value": 1}',
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="key-order",
    )
    assert again.status_code == 201
    assert again["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_same_key_with_different_body_is_422(customer_client):
    post(customer_client, {"value": 1}, "key-2")
    response = post(customer_client, {"value": 2}, "key-2")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "idempotency_key_reused"
    assert OutboxEvent.objects.count() == 1


@pytest.mark.django_db
def test_keys_are_scoped_per_user(customer_client):
    post(customer_client, {"value": 1}, "shared-key")
    other = auth_client(UserFactory())
    response = post(other, {"value": 2}, "shared-key")
    assert response.status_code == 201
    assert OutboxEvent.objects.count() == 2


@pytest.mark.django_db
def test_duplicate_while_first_in_flight_is_409(customer_client, settings):
    settings.IDEMPOTENCY_WAIT_SECONDS = 0.1
    user = customer_client.user
    IdempotencyKey.objects.create(
        scope=f"user:{user.pk}",
        key="busy",
        method="POST",
        path="/effect",
        fingerprint=_fingerprint_of(customer_client, {"value": 1}),
    )
    response = post(customer_client, {"value": 1}, "busy")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_request_in_progress"
    assert OutboxEvent.objects.count() == 0


def _fingerprint_of(client, body) -> str:
    """Learn the stored fingerprint for `body` by making (and discarding) a real request."""
    post(client, body, "probe-key")
    record = IdempotencyKey.objects.get(key="probe-key")
    OutboxEvent.objects.all().delete()
    record.delete()
    return record.fingerprint


@pytest.mark.django_db
def test_failed_request_releases_key_so_retry_runs(customer_client):
    failed = post(customer_client, {"value": 1, "fail": "conflict"}, "key-3")
    assert failed.status_code == 409
    assert not IdempotencyKey.objects.filter(key="key-3").exists()
    assert OutboxEvent.objects.count() == 0


@pytest.mark.django_db
def test_purge_deletes_only_keys_past_retention(customer_client, settings):
    post(customer_client, {"value": 1}, "old")
    post(customer_client, {"value": 1}, "new")
    IdempotencyKey.objects.filter(key="old").update(created_at=timezone.now() - timedelta(hours=49))
    assert settings.IDEMPOTENCY_KEY_TTL >= timedelta(hours=24)
    assert idempotency_cleanup_task.delay().get() == 1
    assert list(IdempotencyKey.objects.values_list("key", flat=True)) == ["new"]
    assert idempotency_keys_purge() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_concurrent_requests_with_one_key_produce_one_effect_and_identical_responses():
    user = UserFactory()
    key = str(uuid.uuid4())
    barrier = threading.Barrier(20)
    responses = []
    lock = threading.Lock()

    def worker():
        client = auth_client(user)
        try:
            barrier.wait()
            response = post(client, {"value": 42}, key)
            with lock:
                responses.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert OutboxEvent.objects.filter(name="test_effect").count() == 1
    assert len(responses) == 20
    assert {status for status, _ in responses} == {201}
    assert len({str(body) for _, body in responses}) == 1
