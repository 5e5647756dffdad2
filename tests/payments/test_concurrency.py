"""Concurrent deliveries on PostgreSQL with real threads: exactly one transition, no deadlock."""

import threading
import time

import pytest
import responses
from django.db import connection
from django.test import Client

from apps.inventory.models import Location
from apps.orders.models import Order
from apps.orders.services import order_cancel
from apps.payments.models import Payment, PaymentNotification

from .conftest import (
    MP_API,
    events,
    movements,
    mp_payment,
    mp_refund,
    place,
    post_webhook,
    stock,
    webhook_body,
)

MP_ID = 20359978
# serialized_rollback: rows created by migrations (the default stock location) exist in every test.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]


def run_together(n: int, work) -> list:
    """Run work(i) in n threads released together by a barrier; return results (or exceptions)."""
    barrier = threading.Barrier(n)
    results: list = [None] * n

    def target(i: int) -> None:
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as exc:  # noqa: BLE001 - returned to the test
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


@pytest.fixture(autouse=True)
def default_location():
    # The migration's row, in case the database was flushed by an earlier run reused with --reuse-db.
    Location.objects.get_or_create(
        is_default=True, defaults={"code": "MAIN", "name": "Main warehouse", "kind": "warehouse"}
    )


@pytest.fixture
def approved_at_provider(mercadopago, customer, variant):
    order, info = place(customer, (variant, 2))
    payment = Payment.objects.get(pk=info.id)
    mercadopago.add(
        responses.GET,
        f"{MP_API}/v1/payments/{MP_ID}",
        json=mp_payment(order, status="approved", payment=payment, mp_id=MP_ID),
    )
    return order, payment


def test_one_webhook_replayed_ten_times_concurrently_makes_one_transition(approved_at_provider, variant):
    order, payment = approved_at_provider
    body = webhook_body(str(MP_ID), notification_id=5555)

    results = run_together(10, lambda i: post_webhook(Client(), str(MP_ID), body=body, request_id=f"req-{i}"))

    assert [r.status_code for r in results] == [200] * 10
    assert sorted(r.json()["status"] for r in results) == ["duplicate"] * 9 + ["received"]
    assert PaymentNotification.objects.count() == 1
    assert PaymentNotification.objects.get().result == "applied: pending → approved"
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("paid", "approved")
    assert movements(order) == [("reserve", 0, 2), ("sale", -2, -2)]
    assert stock(variant) == (8, 0)
    assert events("order_paid", order) == 1


def test_ten_different_notifications_for_one_payment_at_once_make_one_transition(
    approved_at_provider, variant
):
    order, payment = approved_at_provider

    results = run_together(
        10,
        lambda i: post_webhook(Client(), str(MP_ID), body=webhook_body(str(MP_ID), notification_id=7000 + i)),
    )

    assert [r.status_code for r in results] == [200] * 10
    outcomes = sorted(PaymentNotification.objects.values_list("result", flat=True))
    assert outcomes == ["applied: pending → approved"] + ["unchanged: approved"] * 9
    assert movements(order) == [("reserve", 0, 2), ("sale", -2, -2)]
    assert stock(variant) == (8, 0)
    assert events("order_paid", order) == 1


def test_approval_racing_a_cancellation_ends_refunded_without_deadlock(
    approved_at_provider, mercadopago, variant
):
    """Whichever wins, the money and the units come back exactly once."""
    order, payment = approved_at_provider
    mercadopago.add(
        responses.POST,
        f"{MP_API}/v1/payments/{MP_ID}/refunds",
        json=mp_refund(MP_ID, order.total),
        status=201,
    )

    def work(i: int):
        if i == 0:
            return post_webhook(Client(), str(MP_ID)).status_code
        return order_cancel(order_id=str(order.id), reason="customer cancelled").status

    results = run_together(2, work)

    assert results == [200, "cancelled"]
    order = Order.objects.get(pk=order.pk)
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("cancelled", "refunded")
    assert len([c for c in mercadopago.calls if c.request.url.endswith("/refunds")]) == 1
    assert stock(variant) == (10, 0)


def test_webhook_is_processed_by_a_real_celery_worker_after_commit(approved_at_provider, real_celery_worker):
    order, payment = approved_at_provider
    response = post_webhook(Client(), str(MP_ID))

    assert (response.status_code, response.json()) == (200, {"status": "received"})
    notification = PaymentNotification.objects.get()
    deadline = time.monotonic() + 20
    while notification.processed_at is None and time.monotonic() < deadline:
        time.sleep(0.1)
        notification.refresh_from_db()
    assert notification.result == "applied: pending → approved"
    order.refresh_from_db()
    assert order.status == "paid"


def test_two_captures_processed_at_once_pay_the_order_once_and_refund_the_other(
    approved_at_provider, mercadopago, variant
):
    order, payment = approved_at_provider
    second = MP_ID + 1
    mercadopago.add(
        responses.GET,
        f"{MP_API}/v1/payments/{second}",
        json=mp_payment(order, status="approved", payment=payment, mp_id=second),
    )
    for mp_id in (MP_ID, second):
        mercadopago.add(
            responses.POST,
            f"{MP_API}/v1/payments/{mp_id}/refunds",
            json=mp_refund(mp_id, order.total),
            status=201,
        )

    ids = [MP_ID, second]
    results = run_together(
        2,
        lambda i: post_webhook(
            Client(), str(ids[i]), body=webhook_body(str(ids[i]), notification_id=8000 + i)
        ),
    )

    assert [r.status_code for r in results] == [200, 200]
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("approved", "paid")
    refunded = [c.request.url for c in mercadopago.calls if c.request.url.endswith("/refunds")]
    kept = payment.provider_payment_id
    other = str(second) if kept == str(MP_ID) else str(MP_ID)
    assert refunded == [f"{MP_API}/v1/payments/{other}/refunds"]
    assert movements(order) == [("reserve", 0, 2), ("sale", -2, -2)]
    assert events("order_paid", order) == 1
