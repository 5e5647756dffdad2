"""Transactional outbox: publish in the caller's transaction, dispatch after commit, run each handler once."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from shop.events import publish
from shop.events import registry as event_registry
from shop.events import tasks as event_tasks
from shop.events.dispatch import outbox_dispatch, outbox_drain, outbox_sweep
from shop.events.models import HandlerRun, OutboxEvent
from shop.events.tasks import outbox_sweep_task

received: list[dict] = []


def record_event(event: dict) -> None:
    received.append(event)


def failing_handler(event: dict) -> None:
    raise RuntimeError("subscriber is down")


@pytest.fixture
def subscribed():
    """Subscribe `record_event` to `thing_happened` for one test."""
    received.clear()
    event_registry.subscribe("thing_happened", record_event)
    yield received
    event_registry._subscribers["thing_happened"].remove(record_event)
    received.clear()


@pytest.fixture
def failing_subscriber():
    event_registry.subscribe("thing_happened", failing_handler)
    yield
    event_registry._subscribers["thing_happened"].remove(failing_handler)


@pytest.mark.django_db
def test_event_is_delivered_after_commit_with_its_payload(subscribed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        event = publish("thing_happened", {"order_id": "abc"})
        assert subscribed == []  # nothing runs before commit
    assert subscribed == [{"id": str(event.id), "name": "thing_happened", "order_id": "abc"}]
    event.refresh_from_db()
    assert event.dispatched_at is not None
    assert HandlerRun.objects.filter(event=event).count() == 1


@pytest.mark.django_db
def test_nothing_is_recorded_or_delivered_when_the_transaction_rolls_back(
    subscribed, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        publish("thing_happened", {"order_id": "abc"})
        raise RuntimeError("business rule failed")
    assert callbacks == []
    assert OutboxEvent.objects.count() == 0
    assert subscribed == []


@pytest.mark.django_db
def test_dispatching_twice_delivers_once(subscribed, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        event = publish("thing_happened", {"n": 1})
    assert outbox_dispatch(event_id=event.id) is True
    OutboxEvent.objects.filter(pk=event.pk).update(dispatched_at=None)  # as if a second worker raced
    assert outbox_dispatch(event_id=event.id) is True
    assert len(subscribed) == 1
    assert HandlerRun.objects.count() == 1


@pytest.mark.django_db
def test_sweeper_delivers_events_whose_dispatch_was_lost(
    subscribed, django_capture_on_commit_callbacks, settings
):
    with django_capture_on_commit_callbacks(execute=False):  # the broker "was down": no task enqueued
        lost = publish("thing_happened", {"n": 1})
        fresh = publish("thing_happened", {"n": 2})
    OutboxEvent.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    assert outbox_sweep_task.delay().get() == 1
    assert [e["n"] for e in subscribed] == [1]
    fresh.refresh_from_db()
    assert fresh.dispatched_at is None  # too young: its own dispatch task may still be on the way


@pytest.mark.django_db
def test_a_burst_of_commits_queues_one_drain_that_delivers_every_event(
    subscribed, django_capture_on_commit_callbacks, monkeypatch, settings
):
    queued = []
    monkeypatch.setattr(event_tasks.outbox_drain_task, "apply_async", lambda **kw: queued.append(kw))
    for n in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            publish("thing_happened", {"n": n})

    assert queued == [{"countdown": settings.OUTBOX_WAKE_DELAY.total_seconds()}]
    assert subscribed == []
    assert outbox_drain() == 5
    assert [e["n"] for e in subscribed] == [0, 1, 2, 3, 4]
    # The drain cleared the wake: the next commit queues the next drain.
    with django_capture_on_commit_callbacks(execute=True):
        publish("thing_happened", {"n": 5})
    assert len(queued) == 2


@pytest.mark.django_db
def test_a_failed_queueing_lets_the_next_commit_try_again(django_capture_on_commit_callbacks, monkeypatch):
    calls = []

    def broker_down(**kw):
        calls.append(kw)
        raise ConnectionError("broker down")

    monkeypatch.setattr(event_tasks.outbox_drain_task, "apply_async", broker_down)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):  # robust: the commit stands
            publish("thing_happened", {})
    assert len(calls) == 2
    assert OutboxEvent.objects.filter(dispatched_at__isnull=True).count() == 2  # the sweeper's job now


@pytest.mark.django_db
def test_drain_leaves_events_that_already_failed_to_the_sweeper(
    subscribed, failing_subscriber, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):  # eager: drained on commit, fails once
        event = publish("thing_happened", {"n": 1})
    assert OutboxEvent.objects.get(pk=event.pk).attempts == 1

    assert outbox_drain() == 0
    assert OutboxEvent.objects.get(pk=event.pk).attempts == 1  # not retried on every wake
    assert len(subscribed) == 1


@pytest.mark.django_db
def test_failing_handler_keeps_event_pending_without_blocking_others(
    subscribed, failing_subscriber, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        event = publish("thing_happened", {"n": 1})
    event.refresh_from_db()
    assert event.dispatched_at is None
    assert "subscriber is down" in event.last_error
    assert len(subscribed) == 1
    # The healthy handler is not repeated when the sweeper retries.
    OutboxEvent.objects.filter(pk=event.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    outbox_sweep()
    assert len(subscribed) == 1
    assert event.attempts + 1 == OutboxEvent.objects.get(pk=event.pk).attempts


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_dispatchers_run_each_handler_once(subscribed):
    event = OutboxEvent.objects.create(name="thing_happened", payload={"n": 1})
    barrier = threading.Barrier(8)

    def worker():
        try:
            barrier.wait()
            outbox_dispatch(event_id=event.id)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(subscribed) == 1
    assert HandlerRun.objects.filter(event=event).count() == 1


@pytest.mark.postgres
def test_event_is_dispatched_by_a_real_celery_worker_after_commit(subscribed, real_celery_worker):
    with transaction.atomic():
        event = publish("thing_happened", {"n": 7})
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if OutboxEvent.objects.filter(pk=event.pk, dispatched_at__isnull=False).exists():
            break
        time.sleep(0.1)
    assert OutboxEvent.objects.get(pk=event.pk).dispatched_at is not None
    assert [e["n"] for e in subscribed] == [7]
