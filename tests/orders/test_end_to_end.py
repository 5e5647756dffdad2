"""Orders with the real payments app (dummy provider): checkout over HTTP, the provider's answer
through /payments/{id}/simulate, then cancel / refund / expiry — stock and payment move together."""

import uuid
from datetime import timedelta

import pytest
from django.test import TestCase
from django.utils import timezone

from apps.orders.models import Order
from apps.orders.services import orders_expire_unpaid
from apps.payments.models import Payment
from tests.factories.inventory import stocked_variant
from tests.factories.orders import ADDRESS

from .helpers import level, movements, reservation_statuses

pytestmark = pytest.mark.django_db


def committed():
    """Run after-commit callbacks (Celery tasks run inline in tests) as a real commit would."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def checkout(client, variant, quantity):
    with committed():
        response = client.post(
            "/api/v1/orders",
            {"lines": [{"variant": variant.pk, "quantity": quantity}], "shipping_address": ADDRESS},
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
    assert response.status_code == 201, response.json()
    return response.json()


def simulate(client, payment_id, status):
    with committed():
        response = client.post(f"/api/v1/payments/{payment_id}/simulate", {"status": status}, format="json")
    assert response.status_code == 200, response.json()


def test_checkout_opens_a_dummy_payment_with_a_checkout_url(customer_client, real_payments, settings):
    variant = stocked_variant(10)
    body = checkout(customer_client, variant, 2)
    payment = Payment.objects.get(order_id=body["id"])
    assert body["payment"] == {
        "id": str(payment.id),
        "provider": "dummy",
        "status": "pending",
        "checkout_url": payment.checkout_url,
    }
    assert payment.checkout_url.startswith(settings.SHOP_PUBLIC_URL)
    assert str(payment.amount) == body["total"]
    # The 201 body is built from memory; it must equal what a read from the database gives.
    assert customer_client.get(f"/api/v1/orders/{body['id']}").json() == body
    assert customer_client.get("/api/v1/orders").json()["results"][0]["payment"] == body["payment"]


def test_approval_pays_then_customer_cancel_refunds_and_restocks(customer_client, real_payments):
    variant = stocked_variant(10)
    body = checkout(customer_client, variant, 3)
    simulate(customer_client, body["payment"]["id"], "approved")
    order = Order.objects.get(pk=body["id"])
    assert order.status == "paid" and level(variant) == (7, 0)

    response = customer_client.post(f"/api/v1/orders/{order.id}/cancel", {}, format="json")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payment"]["status"]) == ("cancelled", "refunded")
    assert movements(order) == [("reserve", 0, 3), ("sale", -3, -3), ("receive", 3, 0)]
    assert level(variant) == (10, 0)
    assert Payment.objects.get(order=order).status == "refunded"


def test_rejection_cancels_and_releases(customer_client, real_payments):
    variant = stocked_variant(10)
    body = checkout(customer_client, variant, 4)
    simulate(customer_client, body["payment"]["id"], "rejected")
    order = Order.objects.get(pk=body["id"])
    assert order.status == "cancelled"
    assert movements(order) == [("reserve", 0, 4), ("release", 0, -4)]
    assert reservation_statuses(order) == ["released"]
    assert level(variant) == (10, 0)


def test_staff_refund_of_a_paid_order(customer_client, role_client, real_payments):
    variant = stocked_variant(10)
    body = checkout(customer_client, variant, 2)
    simulate(customer_client, body["payment"]["id"], "approved")
    response = role_client("customer_support").post(
        f"/api/v1/admin/orders/{body['id']}/refund", {"reason": "wrong size"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["payment"]["status"]) == ("refunded", "refunded")
    assert level(variant) == (10, 0)


def test_ship_and_deliver_a_paid_order(customer_client, role_client, real_payments):
    variant = stocked_variant(10)
    body = checkout(customer_client, variant, 1)
    simulate(customer_client, body["payment"]["id"], "approved")
    support = role_client("customer_support")
    shipped = support.post(
        f"/api/v1/admin/orders/{body['id']}/shipments",
        {"carrier": "Olva", "tracking_number": "E2E-1"},
        format="json",
    )
    assert shipped.status_code == 201
    delivered = support.patch(
        f"/api/v1/admin/shipments/{shipped.json()['id']}", {"status": "delivered"}, format="json"
    )
    assert delivered.status_code == 200
    assert customer_client.get(f"/api/v1/orders/{body['id']}").json()["status"] == "delivered"
    assert level(variant) == (9, 0)


def test_expiry_cancels_the_pending_payment_too(customer_client, real_payments, settings):
    variant = stocked_variant(10)
    body = checkout(customer_client, variant, 2)
    Order.objects.filter(pk=body["id"]).update(
        created_at=timezone.now() - settings.SHOP_PAYMENT_TIMEOUT - timedelta(seconds=1)
    )
    assert orders_expire_unpaid() == 1
    assert Order.objects.get(pk=body["id"]).status == "cancelled"
    assert Payment.objects.get(order_id=body["id"]).status == "cancelled"
    assert level(variant) == (10, 0)


def test_approval_arriving_after_expiry_is_refunded_not_resold(customer_client, real_payments, settings):
    variant = stocked_variant(10)
    body = checkout(customer_client, variant, 2)
    Order.objects.filter(pk=body["id"]).update(created_at=timezone.now() - timedelta(days=1))
    orders_expire_unpaid()
    simulate(customer_client, body["payment"]["id"], "approved")
    assert Order.objects.get(pk=body["id"]).status == "cancelled"
    assert level(variant) == (10, 0)  # nothing sold for a cancelled order


def test_short_stock_leaves_no_order_payment_or_reservation(customer_client, real_payments):
    from apps.inventory.models import Reservation
    from shop.events.models import OutboxEvent

    variant = stocked_variant(1)
    with committed():
        response = customer_client.post(
            "/api/v1/orders",
            {"lines": [{"variant": variant.pk, "quantity": 2}], "shipping_address": ADDRESS},
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
    assert response.status_code == 409
    assert not Order.objects.exists() and not Payment.objects.exists() and not Reservation.objects.exists()
    assert not OutboxEvent.objects.filter(name="order_placed").exists()
    assert level(variant) == (1, 0)


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres
def test_checkout_round_trips_are_pinned(
    customer_client, real_payments, monkeypatch, django_assert_num_queries
):
    """Checkout in production shape (autocommit, real commits): 10 statements, BEGIN/COMMIT included.

    auth user; idempotency claim (one autocommitted INSERT, committed without a flush wait); variants;
    the checkout transaction (BEGIN; order, lines, timeline event and payment in one statement that
    draws the number; stock lock; outbox event, levels, movements and reservations in one statement;
    COMMIT — no savepoint, no read-back, no alert query for a level above its reorder point); the
    provider checkout (nothing read: one conditional UPDATE committed without a flush wait); the
    idempotency result.
    """
    from shop.events import tasks as event_tasks

    enqueued = []
    monkeypatch.setattr(event_tasks.outbox_drain_task, "apply_async", lambda **kw: enqueued.append(kw))
    variant = stocked_variant(10)
    with django_assert_num_queries(10) as captured:
        response = customer_client.post(
            "/api/v1/orders",
            {"lines": [{"variant": variant.pk, "quantity": 2}], "shipping_address": ADDRESS},
            format="json",
            HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()),
        )
    assert response.status_code == 201, response.json()
    assert len(enqueued) == 1  # a drain for order_placed, queued after the commit
    sqls = [q["sql"] for q in captured.captured_queries]
    assert sum(sql == "COMMIT" for sql in sqls) == 1  # the checkout; the others autocommit
    assert not any("SAVEPOINT" in sql for sql in sqls)
    assert "set_config('synchronous_commit', 'off', true)" in sqls[1]  # the claim
    assert "set_config('synchronous_commit', 'off', true)" in sqls[-2]  # the checkout URL
    for table in ("orders_order", "orders_orderline", "orders_orderevent", "payments_payment"):
        assert table in sqls[4]  # the order, before the stock lock
    # The checkout commits without a flush wait; the idempotency result, synchronous, is the durability
    # point the client waits for (shop.db.durability_deferred).
    assert "set_config('synchronous_commit', 'off', true)" in sqls[4]
    assert "synchronous_commit" not in sqls[-1]
    assert "FOR UPDATE" in sqls[5]
    for table in ("shop_events_outboxevent", "inventory_stocklevel", "inventory_reservation"):
        assert table in sqls[6]  # the event and the reservation, while the stock rows are locked
    assert sqls[7] == "COMMIT"
    body = response.json()
    assert body["payment"]["checkout_url"]
    assert customer_client.get(f"/api/v1/orders/{body['id']}").json() == body
