"""Checkout under real concurrency on PostgreSQL: threads behind a barrier, each with its own JWT,
through the full HTTP stack (Django test client → DRF → idempotency → services → PostgreSQL).

The real payments app (dummy provider) takes part: payment_open inside the checkout transaction,
the provider checkout after commit. The shared PostgreSQL allows 100 connections in total, so a
semaphore caps how many threads are inside a request at once (CONNECTIONS); every thread still
starts at the same instant and the lock contention on the stock rows is real.
"""

import random
import threading
import uuid
from collections import Counter

import pytest
from django.db import connection
from django.db.models import Sum

from apps.inventory.models import Reservation, StockLevel, StockMovement
from apps.orders.models import CartLine, Order
from apps.payments.models import Payment
from apps.payments.providers.dummy import DummyProvider
from tests.conftest import auth_client
from tests.factories.accounts import UserFactory
from tests.factories.inventory import stocked_variant
from tests.factories.orders import ADDRESS, CartFactory, CartLineFactory

# serialized_rollback: rows created by migrations (default location, role groups) exist in every test.
pytestmark = [pytest.mark.django_db(transaction=True, serialized_rollback=True), pytest.mark.postgres]
CONNECTIONS = 30


@pytest.fixture
def provider_checkouts(monkeypatch):
    """Spy on the dummy provider: the payment ids it created a checkout for."""
    calls = []
    original = DummyProvider.create_checkout

    def spy(self, payment, order):
        calls.append(str(payment.pk))
        return original(self, payment, order)

    monkeypatch.setattr(DummyProvider, "create_checkout", spy)
    return calls


def run_concurrently(jobs):
    """Start every job at once (barrier); returns their results in order. Each closes its connection."""
    barrier = threading.Barrier(len(jobs))
    gate = threading.BoundedSemaphore(CONNECTIONS)
    results = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait(timeout=60)
            with gate:
                try:
                    results[index] = job()
                finally:
                    connection.close()
        except Exception as exc:  # recorded, asserted by the caller
            results[index] = exc

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads), "a checkout thread hung (deadlock?)"
    return results


def post_order(client, body, key):
    response = client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    return response.status_code, response.json()


def assert_ledger_consistent(*variants):
    for variant in variants:
        for lv in StockLevel.objects.filter(variant=variant):
            assert lv.on_hand >= 0 and 0 <= lv.reserved <= lv.on_hand
            sums = StockMovement.objects.filter(variant=variant, location=lv.location).aggregate(
                on_hand=Sum("on_hand_delta"), reserved=Sum("reserved_delta")
            )
            assert (sums["on_hand"], sums["reserved"]) == (lv.on_hand, lv.reserved)
        ledger = StockMovement.objects.filter(variant=variant)
        assert not ledger.filter(on_hand_after__lt=0).exists()
        assert not ledger.filter(reserved_after__lt=0).exists()


def test_200_buyers_for_10_units_get_exactly_10_orders(real_payments, provider_checkouts):
    sku = stocked_variant(10)
    clients = [auth_client(UserFactory()) for _ in range(200)]
    body = {"lines": [{"variant": sku.pk, "quantity": 1}], "shipping_address": ADDRESS}

    results = run_concurrently([lambda c=c: post_order(c, body, str(uuid.uuid4())) for c in clients])

    assert not [r for r in results if isinstance(r, Exception)]
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 10, 409: 190}
    assert {body["error"]["code"] for status, body in results if status == 409} == {"insufficient_stock"}
    for status, body in results:
        if status == 409:
            assert body["error"]["details"]["lines"] == [{"variant": sku.pk, "requested": 1, "available": 0}]
    assert Order.objects.count() == 10
    assert len({body["number"] for status, body in results if status == 201}) == 10
    level = StockLevel.objects.get(variant=sku)
    assert (level.on_hand, level.reserved) == (10, 10)
    assert Reservation.objects.filter(variant=sku, status="active").aggregate(n=Sum("quantity"))["n"] == 10
    assert StockMovement.objects.filter(variant=sku, kind="reserve").count() == 10
    assert_ledger_consistent(sku)
    assert Payment.objects.filter(status="pending").exclude(checkout_url="").count() == 10
    assert len(provider_checkouts) == 10


def test_100_carts_with_two_skus_in_random_order_never_deadlock(real_payments):
    a, b = stocked_variant(60), stocked_variant(60)
    rng = random.Random(4)
    clients = []
    for _ in range(100):
        user = UserFactory()
        cart = CartFactory(customer=user)
        pair = [a, b]
        rng.shuffle(pair)  # lines (and so the order the cart lists them) differ per customer
        for variant in pair:
            CartLineFactory(cart=cart, variant=variant, quantity=1)
        clients.append(auth_client(user))
    body = {"shipping_address": ADDRESS}

    results = run_concurrently([lambda c=c: post_order(c, body, str(uuid.uuid4())) for c in clients])

    assert not [r for r in results if isinstance(r, Exception)]
    statuses = Counter(status for status, _ in results)
    assert statuses == {201: 60, 409: 40}
    assert Order.objects.count() == 60
    for variant in (a, b):
        level = StockLevel.objects.get(variant=variant)
        assert (level.on_hand, level.reserved) == (60, 60)
    assert_ledger_consistent(a, b)
    # Winners' carts were emptied; losers keep theirs.
    assert CartLine.objects.count() == 80


def test_50_concurrent_requests_with_one_key_make_one_order(settings, real_payments, provider_checkouts):
    settings.IDEMPOTENCY_WAIT_SECONDS = 60
    sku = stocked_variant(100)
    user = UserFactory()
    clients = [auth_client(user) for _ in range(50)]
    body = {"lines": [{"variant": sku.pk, "quantity": 2}], "shipping_address": ADDRESS}
    key = str(uuid.uuid4())

    results = run_concurrently([lambda c=c: post_order(c, body, key) for c in clients])

    assert not [r for r in results if isinstance(r, Exception)]
    assert {status for status, _ in results} == {201}
    first = results[0][1]
    assert all(response == first for _, response in results)
    assert Order.objects.count() == 1 and first["id"] == str(Order.objects.get().id)
    assert Payment.objects.count() == 1
    assert provider_checkouts == [first["payment"]["id"]]
    assert first["payment"]["checkout_url"] and first["payment"]["status"] == "pending"
    level = StockLevel.objects.get(variant=sku)
    assert (level.on_hand, level.reserved) == (100, 2)


def test_expiry_racing_payment_approvals_settles_each_order_exactly_once(real_payments):
    from datetime import timedelta

    from django.utils import timezone

    from apps.orders.services import RequestedLine, order_mark_paid, order_place, orders_expire_unpaid
    from shop.exceptions import InvalidTransition

    sku = stocked_variant(40)
    user = UserFactory()
    orders = [
        order_place(
            customer=user,
            shipping_address=dict(ADDRESS),
            lines=[RequestedLine(variant_id=sku.pk, quantity=2)],
        ).order
        for _ in range(20)
    ]
    Order.objects.update(created_at=timezone.now() - timedelta(days=1))

    def approve(order_id):
        try:
            return order_mark_paid(order_id=str(order_id)).status
        except InvalidTransition:
            return "refused"

    jobs = [lambda: ("expired", orders_expire_unpaid())] + [lambda o=o: approve(o.id) for o in orders]
    results = run_concurrently(jobs)

    assert not [r for r in results if isinstance(r, Exception)]
    final = dict(Order.objects.values_list("id", "status"))
    paid = [o for o in orders if final[o.id] == "paid"]
    cancelled = [o for o in orders if final[o.id] == "cancelled"]
    assert len(paid) + len(cancelled) == 20
    assert results[0] == ("expired", len(cancelled))
    assert results[1:].count("refused") == len(cancelled)
    for order in paid:
        kinds = list(
            StockMovement.objects.filter(reference=f"order:{order.id}").values_list("kind", flat=True)
        )
        assert sorted(kinds) == ["reserve", "sale"]
    for order in cancelled:
        kinds = list(
            StockMovement.objects.filter(reference=f"order:{order.id}").values_list("kind", flat=True)
        )
        assert sorted(kinds) == ["release", "reserve"]
    level = StockLevel.objects.get(variant=sku)
    assert (level.on_hand, level.reserved) == (40 - 2 * len(paid), 0)
    assert_ledger_consistent(sku)
