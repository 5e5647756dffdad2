"""Applying provider statuses: order effects, automatic refunds, provider failures and retries."""

from datetime import timedelta

import pytest
import responses
from django.utils import timezone

from apps.orders.services import order_cancel
from apps.payments.models import Payment, PaymentNotification
from apps.payments.services import (
    payment_notification_process,
    payment_notifications_retry,
    payment_status_apply,
)
from apps.payments.tasks import payment_notifications_retry_task
from tests.factories.payments import PaymentNotificationFactory

from .conftest import (
    MP_API,
    events,
    movements,
    mp_payment,
    mp_refund,
    place,
    post_webhook,
    reservation_statuses,
    stock,
    webhook_body,
)

MP_ID = 20359978


@pytest.fixture
def mp_order(db, mercadopago, customer, variant):
    order, info = place(customer, (variant, 2))
    return order, Payment.objects.get(pk=info.id)


def provider_says(mp, order, payment, status, **kwargs):
    mp.upsert(
        responses.GET,
        f"{MP_API}/v1/payments/{MP_ID}",
        json=mp_payment(order, status=status, payment=payment, mp_id=MP_ID, **kwargs),
    )


@pytest.mark.django_db
def test_approved_payment_marks_the_order_paid_and_sells_the_reserved_units(
    client, mp_order, mercadopago, variant
):
    order, payment = mp_order
    provider_says(mercadopago, order, payment, "approved")
    post_webhook(client, str(MP_ID))

    order.refresh_from_db()
    payment.refresh_from_db()
    assert order.status == "paid"
    assert (payment.status, payment.raw["payment"]["status_detail"]) == ("approved", "accredited")
    assert payment.approved_at is not None
    assert movements(order) == [("reserve", 0, 2), ("sale", -2, -2)]
    assert reservation_statuses(order) == ["committed"]
    assert stock(variant) == (8, 0)
    assert events("order_paid", order) == 1


@pytest.mark.django_db
def test_rejected_payment_cancels_the_order_and_releases_stock(client, mp_order, mercadopago, variant):
    order, payment = mp_order
    provider_says(mercadopago, order, payment, "rejected")
    post_webhook(client, str(MP_ID))

    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("cancelled", "rejected")
    assert movements(order) == [("reserve", 0, 2), ("release", 0, -2)]
    assert reservation_statuses(order) == ["released"]
    assert stock(variant) == (10, 0)
    assert events("order_cancelled", order) == 1
    assert events("order_paid", order) == 0


@pytest.mark.django_db
def test_cancelled_payment_cancels_the_order(client, mp_order, mercadopago, variant):
    order, payment = mp_order
    provider_says(mercadopago, order, payment, "cancelled")
    post_webhook(client, str(MP_ID))
    order.refresh_from_db()
    assert (order.status, Payment.objects.get().status, stock(variant)) == ("cancelled", "cancelled", (10, 0))


@pytest.mark.django_db
def test_money_captured_for_a_cancelled_order_is_refunded(client, mp_order, mercadopago, variant):
    order, payment = mp_order
    order_cancel(order_id=str(order.id), reason="customer changed their mind")
    provider_says(mercadopago, order, payment, "approved")
    mercadopago.add(
        responses.POST,
        f"{MP_API}/v1/payments/{MP_ID}/refunds",
        json=mp_refund(MP_ID, order.total),
        status=201,
    )
    post_webhook(client, str(MP_ID))

    payment.refresh_from_db()
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert payment.status == "refunded"
    assert payment.status_reason.startswith(
        "refunded automatically: order could not be paid (invalid_transition)"
    )
    assert payment.raw["refund"]["status"] == "approved"
    refund_call = [c for c in mercadopago.calls if c.request.url.endswith("/refunds")]
    assert len(refund_call) == 1
    assert refund_call[0].request.headers["x-idempotency-key"] == f"shop-refund-{payment.id}"
    assert movements(order) == [("reserve", 0, 2), ("release", 0, -2)]  # no sale
    assert stock(variant) == (10, 0)
    assert PaymentNotification.objects.get().result == "applied: cancelled → approved → refunded"


@pytest.mark.django_db
def test_an_amount_that_differs_from_the_order_total_is_refunded_not_accepted(client, mp_order, mercadopago):
    order, payment = mp_order
    provider_says(mercadopago, order, payment, "approved", amount=order.total - 1)
    mercadopago.add(
        responses.POST,
        f"{MP_API}/v1/payments/{MP_ID}/refunds",
        json=mp_refund(MP_ID, order.total - 1),
        status=201,
    )
    post_webhook(client, str(MP_ID))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert payment.status == "refunded"
    assert "amount mismatch" in payment.status_reason
    assert order.status == "pending_payment"  # still payable until it expires
    assert movements(order) == [("reserve", 0, 2)]


@pytest.mark.django_db
def test_refund_at_the_provider_of_a_paid_order_refunds_the_order(client, mp_order, mercadopago, variant):
    order, payment = mp_order
    provider_says(mercadopago, order, payment, "approved")
    post_webhook(client, str(MP_ID), body=webhook_body(str(MP_ID), notification_id=1))
    provider_says(mercadopago, order, payment, "refunded")
    post_webhook(client, str(MP_ID), body=webhook_body(str(MP_ID), notification_id=2))

    order.refresh_from_db()
    payment.refresh_from_db()
    assert (payment.status, order.status) == ("refunded", "refunded")
    assert [c for c in mercadopago.calls if c.request.url.endswith("/refunds")] == []  # not refunded twice
    assert stock(variant) == (10, 0)  # paid, never shipped: units back
    assert events("order_refunded", order) == 1


@pytest.mark.django_db
def test_provider_outage_leaves_the_notification_for_a_retry(client, mp_order, mercadopago):
    order, payment = mp_order
    mercadopago.add(responses.GET, f"{MP_API}/v1/payments/{MP_ID}", json={"message": "boom"}, status=500)
    # The webhook still answers 200: the delivery is recorded; the task will retry.
    assert post_webhook(client, str(MP_ID)).status_code == 200
    notification = PaymentNotification.objects.get()
    assert notification.processed_at is None
    assert notification.result.startswith("error: ")
    assert Payment.objects.get().status == "pending"

    provider_says(mercadopago, order, payment, "approved")
    PaymentNotification.objects.filter(pk=notification.pk).update(
        received_at=timezone.now() - timedelta(minutes=5)
    )
    assert payment_notifications_retry_task.delay().get() == 1
    notification.refresh_from_db()
    assert (notification.result, notification.attempts) == ("applied: pending → approved", 2)
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.django_db
def test_recent_unprocessed_notifications_are_not_retried_yet(db):
    PaymentNotificationFactory(processed_at=None, result="")
    assert payment_notifications_retry() == 0


@pytest.mark.django_db
def test_a_payment_unknown_to_the_provider_is_ignored(mp_order, mercadopago):
    notification = PaymentNotificationFactory(resource_id="404404", processed_at=None, result="")
    mercadopago.add(responses.GET, f"{MP_API}/v1/payments/404404", json={"message": "not found"}, status=404)
    assert (
        payment_notification_process(notification_id=notification.pk)
        == "ignored: payment unknown to the provider"
    )
    assert Payment.objects.get().status == "pending"


@pytest.mark.django_db
def test_a_payment_for_an_order_we_do_not_know_is_ignored(mp_order, mercadopago):
    order, payment = mp_order
    notification = PaymentNotificationFactory(resource_id=str(MP_ID), processed_at=None, result="")
    body = mp_payment(order, status="approved", payment=None, mp_id=MP_ID) | {
        "external_reference": "not-ours"
    }
    mercadopago.add(responses.GET, f"{MP_API}/v1/payments/{MP_ID}", json=body)
    assert (
        payment_notification_process(notification_id=notification.pk)
        == "ignored: no payment for reference 'not-ours'"
    )
    assert Payment.objects.get().status == "pending"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "reported", "final"),
    [
        ("pending", "pending", "pending"),
        ("approved", "pending", "approved"),
        ("approved", "rejected", "approved"),
        ("approved", "cancelled", "approved"),
        ("rejected", "pending", "rejected"),
        ("rejected", "cancelled", "rejected"),
        ("refunded", "approved", "refunded"),
        ("refunded", "pending", "refunded"),
        ("refunded", "rejected", "refunded"),
    ],
)
def test_status_never_goes_backwards(start, reported, final):
    from tests.factories.payments import PaymentFactory

    payment = PaymentFactory(status=start)
    change = payment_status_apply(payment_id=payment.pk, status=reported)
    assert (change.payment.status, change.previous, change.changed, change.note) == (final, start, False, "")
    payment.refresh_from_db()
    assert payment.status == final


@pytest.mark.django_db
def test_a_failed_automatic_refund_changes_nothing_and_is_retried(client, mp_order, mercadopago):
    order, payment = mp_order
    order_cancel(order_id=str(order.id), reason="expired")
    provider_says(mercadopago, order, payment, "approved")
    refunds = f"{MP_API}/v1/payments/{MP_ID}/refunds"
    mercadopago.add(responses.POST, refunds, json={"message": "unavailable"}, status=400)
    assert post_webhook(client, str(MP_ID)).status_code == 200

    notification = PaymentNotification.objects.get()
    payment.refresh_from_db()
    assert (notification.processed_at, payment.status) == (None, "cancelled")  # all rolled back

    mercadopago.replace(responses.POST, refunds, json=mp_refund(MP_ID, order.total), status=201)
    assert (
        payment_notification_process(notification_id=notification.pk)
        == "applied: cancelled → approved → refunded"
    )
    payment.refresh_from_db()
    assert payment.status == "refunded"


@pytest.mark.django_db
def test_a_payment_notification_without_a_signed_data_id_is_kept_but_not_processed(
    client, mp_order, mercadopago
):
    from .conftest import sign

    ts = str(int(timezone.now().timestamp()))
    response = client.post(
        "/api/v1/payments/webhooks/mercadopago?type=payment",
        data=webhook_body(str(MP_ID)),
        content_type="application/json",
        HTTP_X_SIGNATURE=sign(None, "req-1", ts),
        HTTP_X_REQUEST_ID="req-1",
    )
    assert response.status_code == 200
    notification = PaymentNotification.objects.get()
    assert notification.result == "ignored: no payment id (data.id) in the query string"
    assert [c.request.method for c in mercadopago.calls] == ["POST"]  # nothing fetched


SECOND = 20360001


@pytest.mark.django_db
def test_a_second_capture_on_the_same_checkout_is_refunded_and_the_order_stays_paid(
    client, mp_order, mercadopago, variant
):
    """The buyer paid twice (two tabs): the first capture pays the order, the second goes back."""
    order, payment = mp_order
    provider_says(mercadopago, order, payment, "approved")
    post_webhook(client, str(MP_ID), body=webhook_body(str(MP_ID), notification_id=1))
    mercadopago.add(
        responses.GET,
        f"{MP_API}/v1/payments/{SECOND}",
        json=mp_payment(order, status="approved", payment=payment, mp_id=SECOND),
    )
    refund_url = f"{MP_API}/v1/payments/{SECOND}/refunds"
    mercadopago.add(responses.POST, refund_url, json=mp_refund(SECOND, order.total), status=201)

    post_webhook(client, str(SECOND), body=webhook_body(str(SECOND), notification_id=2))

    notification = PaymentNotification.objects.get(provider_key="mercadopago:notification:2")
    assert notification.result == f"refunded a second capture {SECOND}"
    refund_calls = [c for c in mercadopago.calls if c.request.url.endswith("/refunds")]
    assert [c.request.url for c in refund_calls] == [refund_url]
    assert refund_calls[0].request.headers["x-idempotency-key"] == f"shop-refund-{payment.id.hex}-{SECOND}"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.provider_payment_id, order.status) == ("approved", str(MP_ID), "paid")
    assert payment.raw["second_captures"][0]["id"] == str(SECOND)
    assert [m[0] for m in movements(order)] == ["reserve", "sale"]
    assert stock(variant) == (8, 0)

    # Mercado Pago then reports that second payment refunded: it is not ours, nothing moves.
    mercadopago.replace(
        responses.GET,
        f"{MP_API}/v1/payments/{SECOND}",
        json=mp_payment(order, status="refunded", payment=payment, mp_id=SECOND),
    )
    post_webhook(client, str(SECOND), body=webhook_body(str(SECOND), notification_id=3))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("approved", "paid")
    assert PaymentNotification.objects.get(provider_key="mercadopago:notification:3").result == (
        f"ignored: refunded for provider payment {SECOND}, not ours"
    )


@pytest.mark.django_db
def test_a_retry_with_another_card_after_a_rejection_is_refunded_because_the_order_was_cancelled(
    client, mp_order, mercadopago, variant
):
    order, payment = mp_order
    provider_says(mercadopago, order, payment, "rejected")
    post_webhook(client, str(MP_ID), body=webhook_body(str(MP_ID), notification_id=1))
    order.refresh_from_db()
    assert order.status == "cancelled"

    mercadopago.add(
        responses.GET,
        f"{MP_API}/v1/payments/{SECOND}",
        json=mp_payment(order, status="approved", payment=payment, mp_id=SECOND),
    )
    mercadopago.add(
        responses.POST,
        f"{MP_API}/v1/payments/{SECOND}/refunds",
        json=mp_refund(SECOND, order.total),
        status=201,
    )
    post_webhook(client, str(SECOND), body=webhook_body(str(SECOND), notification_id=2))

    payment.refresh_from_db()
    assert (payment.status, payment.provider_payment_id) == ("refunded", str(SECOND))
    assert stock(variant) == (10, 0)
