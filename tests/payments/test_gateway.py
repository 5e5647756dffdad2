"""The PaymentGateway implementation orders calls: open, checkout start, refund, cancel, summary."""

import threading
from datetime import timedelta

import pytest
import responses
from django.db import connection
from django.utils import timezone

from apps.orders.models import Order
from apps.orders.ports import payment_gateway
from apps.orders.services import order_cancel, order_refund, orders_expire_unpaid
from apps.payments.exceptions import PaymentProviderUnavailable
from apps.payments.models import Payment
from apps.payments.services import PaymentsGateway, payment_checkout_start, payment_status_apply
from apps.payments.services.gateway import payment_info
from shop.exceptions import NotFound
from tests.factories.orders import OrderFactory
from tests.factories.payments import PaymentFactory

from .conftest import MP_API, committed, events, movements, mp_preference, mp_refund, place, stock


def preference_calls(mp) -> list:
    return [c for c in mp.calls if c.request.url.endswith("/checkout/preferences")]


def test_payments_registers_its_gateway_at_startup():
    assert isinstance(payment_gateway(), PaymentsGateway)


@pytest.mark.django_db
def test_placing_an_order_opens_a_pending_payment_for_its_total(customer, variant):
    order, info = place(customer, (variant, 2))
    payment = Payment.objects.get()
    assert (payment.order_id, payment.amount, payment.currency, payment.status) == (
        order.id,
        order.total,
        order.currency,
        "pending",
    )
    assert (info.id, info.provider, info.status, info.checkout_url) == (
        str(payment.id),
        "dummy",
        "pending",
        payment.checkout_url,
    )


@pytest.mark.django_db
def test_checkout_start_is_idempotent_one_provider_call(mercadopago, customer, variant):
    order, info = place(customer, (variant, 1))  # order_place starts the checkout once
    again = payment_gateway().payment_checkout_start(payment_id=info.id)
    and_again = payment_gateway().payment_checkout_start(payment_id=info.id)

    assert len(preference_calls(mercadopago)) == 1
    assert info.checkout_url == again.checkout_url == and_again.checkout_url == mp_preference()["init_point"]
    payment = Payment.objects.get()
    assert payment.provider_reference == mp_preference()["id"]


@pytest.mark.django_db
def test_a_failed_checkout_start_keeps_the_order_and_can_be_started_again(settings, mp, customer, variant):
    settings.PAYMENTS_PROVIDER = "mercadopago"
    mp.add(responses.POST, f"{MP_API}/checkout/preferences", json={"message": "unavailable"}, status=503)
    order, info = place(customer, (variant, 1))  # orders logs the failure and keeps the order
    assert info.checkout_url == ""
    assert Order.objects.get().status == "pending_payment"

    mp.replace(responses.POST, f"{MP_API}/checkout/preferences", json=mp_preference(), status=201)
    started = payment_gateway().payment_checkout_start(payment_id=info.id)
    assert started.checkout_url == mp_preference()["init_point"]
    # every attempt carried the same idempotency key
    keys = {c.request.headers["x-idempotency-key"] for c in preference_calls(mp)}
    assert keys == {f"shop-checkout-{info.id}"}


@pytest.mark.django_db
def test_checkout_start_raises_a_provider_error_code_when_the_provider_fails(settings, mp):
    settings.PAYMENTS_PROVIDER = "mercadopago"
    payment = PaymentFactory(provider="mercadopago")
    mp.add(responses.POST, f"{MP_API}/checkout/preferences", json={"message": "bad"}, status=400)
    with pytest.raises(PaymentProviderUnavailable) as caught:
        payment_checkout_start(payment_id=str(payment.id))
    assert (caught.value.status_code, caught.value.code) == (502, "payment_provider_error")
    payment.refresh_from_db()
    assert payment.checkout_url == ""


@pytest.mark.django_db
def test_checkout_is_not_started_for_a_payment_that_is_no_longer_pending(mercadopago):
    payment = PaymentFactory(provider="mercadopago", status="cancelled")
    info = payment_gateway().payment_checkout_start(payment_id=str(payment.id))
    assert (info.status, info.checkout_url) == ("cancelled", "")
    assert preference_calls(mercadopago) == []


@pytest.mark.django_db
def test_checkout_start_with_another_orders_object_is_refused_without_a_provider_call(mercadopago):
    payment = PaymentFactory(provider="mercadopago")
    other = OrderFactory()
    with pytest.raises(NotFound):
        payment_checkout_start(payment_id=str(payment.id), order=other)
    payment.refresh_from_db()
    assert (payment.checkout_url, payment.provider_reference) == ("", "")
    assert preference_calls(mercadopago) == []


@pytest.mark.django_db
def test_checkout_start_with_another_orders_opened_payment_is_refused_without_a_provider_call(mercadopago):
    payment = PaymentFactory(provider="mercadopago")
    opened = payment_info(payment)
    other = OrderFactory()
    with pytest.raises(NotFound):
        payment_checkout_start(payment_id=str(payment.id), order=other, opened=opened)
    assert preference_calls(mercadopago) == []


@pytest.mark.django_db
def test_fresh_checkout_start_keeps_a_url_stored_meanwhile(mercadopago):
    """The conditional UPDATE does not overwrite a URL another caller stored after payment_open."""
    payment = PaymentFactory(provider="mercadopago")
    opened = payment_info(payment)  # as payment_open returned it: pending, no URL
    Payment.objects.filter(pk=payment.pk).update(checkout_url="https://pay.example/first")

    started = payment_checkout_start(payment_id=str(payment.id), order=payment.order, opened=opened)

    assert started.checkout_url == "https://pay.example/first"
    assert Payment.objects.get(pk=payment.pk).checkout_url == "https://pay.example/first"


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.postgres
def test_concurrent_checkout_starts_make_one_provider_call(mercadopago):
    payment = PaymentFactory(provider="mercadopago")
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    urls, errors = [], []

    def start():
        try:
            barrier.wait()
            urls.append(payment_checkout_start(payment_id=str(payment.id)).checkout_url)
        except Exception as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert urls == [mp_preference()["init_point"]] * threads_n
    assert len(preference_calls(mercadopago)) == 1


# --- refunds and cancellations driven by orders -----------------------------------------------


@pytest.fixture
def paid_mp_order(mercadopago, customer, variant):
    order, info = place(customer, (variant, 2))
    with committed():
        payment_status_apply(
            payment_id=info.id, status="approved", provider_payment_id="777", amount=order.total
        )
    order.refresh_from_db()
    assert order.status == "paid"
    return order, Payment.objects.get(pk=info.id)


@pytest.mark.django_db
def test_cancelling_a_paid_order_refunds_the_payment_at_the_provider(
    paid_mp_order, mercadopago, customer, variant
):
    order, payment = paid_mp_order
    mercadopago.add(
        responses.POST, f"{MP_API}/v1/payments/777/refunds", json=mp_refund(777, order.total), status=201
    )
    with committed():
        order_cancel(order_id=str(order.id), actor=customer, reason="changed my mind")

    payment.refresh_from_db()
    order.refresh_from_db()
    assert (order.status, payment.status) == ("cancelled", "refunded")
    assert payment.status_reason == f"refunded by user {customer.pk}"
    assert payment.refunded_at is not None
    assert payment.raw["refund"]["id"] == 1009042015
    assert len([c for c in mercadopago.calls if c.request.url.endswith("/refunds")]) == 1
    assert stock(variant) == (10, 0)
    assert events("order_refunded", order) == 1


@pytest.mark.django_db
def test_a_failed_refund_leaves_the_order_paid(paid_mp_order, mercadopago, variant):
    order, payment = paid_mp_order
    mercadopago.add(
        responses.POST, f"{MP_API}/v1/payments/777/refunds", json={"message": "no funds"}, status=400
    )
    with pytest.raises(PaymentProviderUnavailable):
        order_refund(order_id=str(order.id), reason="damaged")
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (order.status, payment.status) == ("paid", "approved")
    assert stock(variant) == (8, 0)


@pytest.mark.django_db
def test_refunding_with_the_dummy_provider_needs_no_remote_call(customer, variant):
    order, info = place(customer, (variant, 1))
    payment_status_apply(
        payment_id=info.id, status="approved", provider_payment_id="dummy-x", amount=order.total
    )
    order_refund(order_id=str(order.id), reason="damaged")
    payment = Payment.objects.get()
    assert (payment.status, payment.raw["refund"]["status"]) == ("refunded", "approved")


@pytest.mark.django_db
def test_refund_returns_none_when_nothing_was_captured(db):
    payment = PaymentFactory()
    assert payment_gateway().payment_refund(order_id=str(payment.order_id), actor_id=None) is None
    payment.refresh_from_db()
    assert payment.status == "pending"


@pytest.mark.django_db
def test_refund_is_idempotent(paid_mp_order, mercadopago):
    order, payment = paid_mp_order
    mercadopago.add(
        responses.POST, f"{MP_API}/v1/payments/777/refunds", json=mp_refund(777, order.total), status=201
    )
    first = payment_gateway().payment_refund(order_id=str(order.id), actor_id=None)
    second = payment_gateway().payment_refund(order_id=str(order.id), actor_id=None)
    assert (first.status, second.status) == ("refunded", "refunded")
    assert len([c for c in mercadopago.calls if c.request.url.endswith("/refunds")]) == 1


@pytest.mark.django_db
def test_cancelling_an_unpaid_order_cancels_its_pending_payment(customer, variant):
    order, info = place(customer, (variant, 1))
    order_cancel(order_id=str(order.id), actor=customer)
    payment = Payment.objects.get()
    assert (payment.status, payment.status_reason) == ("cancelled", "order cancelled before payment")
    assert movements(order) == [("reserve", 0, 1), ("release", 0, -1)]


@pytest.mark.django_db
def test_an_expired_order_cancels_its_pending_payment(customer, variant):
    order, info = place(customer, (variant, 1))
    assert orders_expire_unpaid(now=timezone.now() + timedelta(hours=2)) == 1
    assert Payment.objects.get().status == "cancelled"


@pytest.mark.django_db
def test_payment_summary_is_the_latest_payment_per_order_in_one_query(django_assert_num_queries):
    orders = OrderFactory.create_batch(3)
    for order in orders:
        PaymentFactory(order=order, status="cancelled")
    latest = {str(o.id): PaymentFactory(order=o) for o in orders[:2]}
    ids = [str(o.id) for o in orders]

    with django_assert_num_queries(1):
        summary = payment_gateway().payment_summary(order_ids=ids)

    assert set(summary) == set(ids)
    for order_id, payment in latest.items():
        assert (summary[order_id].id, summary[order_id].status) == (str(payment.id), "pending")
    assert summary[str(orders[2].id)].status == "cancelled"
