"""POST /payments/webhooks/mercadopago: signature verification, recording, deduplication, processing."""

import time

import pytest
import responses

from apps.payments.models import Payment, PaymentNotification
from apps.payments.webhooks import signature_manifest, signature_verify

from .conftest import (
    MP_API,
    SECRET,
    committed,
    events,
    movements,
    mp_payment,
    place,
    post_webhook,
    sign,
    webhook_body,
)


@pytest.fixture
def mp_order(db, mercadopago, customer, variant):
    """An order placed with Mercado Pago as provider: (order, Payment)."""
    order, info = place(customer, (variant, 2))
    return order, Payment.objects.get(pk=info.id)


def fake_payment(mp, order, payment, *, status: str, mp_id: int = 20359978, **kwargs):
    mp.add(
        responses.GET,
        f"{MP_API}/v1/payments/{mp_id}",
        json=mp_payment(order, status=status, payment=payment, mp_id=mp_id, **kwargs),
    )


# --- signature -----------------------------------------------------------------------------


def test_manifest_omits_absent_parts_and_lowercases_alphanumeric_ids():
    assert signature_manifest(data_id="123", request_id="r-1", ts="17") == "id:123;request-id:r-1;ts:17;"
    assert signature_manifest(data_id=None, request_id="r-1", ts="17") == "request-id:r-1;ts:17;"
    assert signature_manifest(data_id="123", request_id=None, ts="17") == "id:123;ts:17;"
    assert signature_manifest(data_id="ABC123", request_id=None, ts="17") == "id:abc123;ts:17;"


@pytest.mark.parametrize("ts_unit", [1, 1000], ids=["seconds", "milliseconds"])
def test_signature_accepts_timestamps_in_seconds_and_milliseconds(ts_unit):
    ts = str(int(time.time()) * ts_unit)
    check = signature_verify(header=sign("123", "r-1", ts), request_id="r-1", data_id="123")
    assert check.valid, check.reason


def test_signature_outside_the_replay_window_is_refused(settings):
    settings.MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS = 300
    stale = str(int(time.time()) - 301)
    check = signature_verify(header=sign("123", "r-1", stale), request_id="r-1", data_id="123")
    assert (check.valid, check.reason) == (False, "timestamp_out_of_tolerance")
    stale_ms = str((int(time.time()) - 301) * 1000)
    assert not signature_verify(header=sign("123", "r-1", stale_ms), request_id="r-1", data_id="123").valid


def test_an_uppercase_alphanumeric_id_verifies_against_the_lowercased_manifest():
    ts = str(int(time.time()))
    header = sign("abc123", "r-1", ts)  # Mercado Pago signs the lowercased id
    assert signature_verify(header=header, request_id="r-1", data_id="ABC123").valid


@pytest.mark.django_db
def test_valid_notification_is_recorded_and_applied(client, mp_order, mercadopago):
    order, payment = mp_order
    fake_payment(mercadopago, order, payment, status="approved")
    response = post_webhook(client, "20359978", body=webhook_body("20359978", notification_id=1111))

    assert response.status_code == 200
    assert response.json() == {"status": "received"}
    notification = PaymentNotification.objects.get()
    assert notification.provider_key == "mercadopago:notification:1111"
    assert notification.resource_id == "20359978"
    assert notification.headers["x-request-id"] == "req-1"
    assert "authorization" not in notification.headers
    # processed after commit (Celery runs inline in tests)
    assert notification.processed_at is not None
    assert notification.result == "applied: pending → approved"
    assert notification.payment_id == payment.id
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.provider_payment_id, order.status) == ("approved", "20359978", "paid")


def _assert_rejected_without_side_effects(response, mp):
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert PaymentNotification.objects.count() == 0
    assert [c.request.method for c in mp.calls] == ["POST"]  # only the preference made at checkout


@pytest.mark.django_db
def test_wrong_secret_is_401_and_records_nothing(client, mp_order, mercadopago):
    response = post_webhook(client, "20359978", secret="someone-elses-secret")
    _assert_rejected_without_side_effects(response, mercadopago)
    assert Payment.objects.get().status == "pending"


@pytest.mark.django_db
def test_missing_signature_is_401_and_records_nothing(client, mp_order, mercadopago):
    _assert_rejected_without_side_effects(post_webhook(client, "20359978", signature=""), mercadopago)


@pytest.mark.django_db
def test_malformed_signature_is_401_and_records_nothing(client, mp_order, mercadopago):
    _assert_rejected_without_side_effects(post_webhook(client, "20359978", signature="v1=abc"), mercadopago)


@pytest.mark.django_db
def test_tampered_data_id_is_401_and_records_nothing(client, mp_order, mercadopago):
    # signed for payment 20359978, delivered for another payment id
    response = post_webhook(client, "20359978", query_id="99999999")
    _assert_rejected_without_side_effects(response, mercadopago)


@pytest.mark.django_db
def test_stale_timestamp_is_401_and_records_nothing(client, mp_order, mercadopago, settings):
    ts = str(int(time.time()) - settings.MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS - 60)
    _assert_rejected_without_side_effects(post_webhook(client, "20359978", ts=ts), mercadopago)


@pytest.mark.django_db
def test_without_a_configured_secret_every_notification_is_refused(client, mp_order, mercadopago, settings):
    settings.MERCADOPAGO_WEBHOOK_SECRET = ""
    _assert_rejected_without_side_effects(post_webhook(client, "20359978", secret=""), mercadopago)


@pytest.mark.django_db
def test_webhook_needs_no_authentication_or_csrf(mp_order, mercadopago):
    from django.test import Client

    order, payment = mp_order
    fake_payment(mercadopago, order, payment, status="pending")
    response = post_webhook(Client(enforce_csrf_checks=True), "20359978")
    assert response.status_code == 200


# --- deduplication and ordering ---------------------------------------------------------------


@pytest.mark.django_db
def test_a_redelivered_notification_is_a_harmless_duplicate(client, mp_order, mercadopago):
    order, payment = mp_order
    fake_payment(mercadopago, order, payment, status="approved")
    body = webhook_body("20359978", notification_id=2222)
    first = post_webhook(client, "20359978", body=body, request_id="req-a")
    again = post_webhook(client, "20359978", body=body, request_id="req-b")  # a retry: new request id

    assert (first.json(), again.json()) == ({"status": "received"}, {"status": "duplicate"})
    assert PaymentNotification.objects.count() == 1
    assert len([c for c in mercadopago.calls if c.request.method == "GET"]) == 1
    assert [m[0] for m in movements(order)] == ["reserve", "sale"]
    assert events("order_paid", order) == 1


@pytest.mark.django_db
def test_late_pending_after_approved_changes_nothing(client, mp_order, mercadopago):
    order, payment = mp_order
    fake_payment(mercadopago, order, payment, status="approved")
    post_webhook(
        client, "20359978", body=webhook_body("20359978", notification_id=1, action="payment.updated")
    )
    payment.refresh_from_db()
    approved_at = payment.approved_at

    mercadopago.replace(
        responses.GET,
        f"{MP_API}/v1/payments/20359978",
        json=mp_payment(order, status="pending", payment=payment, mp_id=20359978),
    )
    response = post_webhook(
        client, "20359978", body=webhook_body("20359978", notification_id=2, action="payment.created")
    )

    assert response.status_code == 200
    late = PaymentNotification.objects.get(provider_key="mercadopago:notification:2")
    assert late.result == "unchanged: approved"
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.approved_at, order.status) == ("approved", approved_at, "paid")
    assert [m[0] for m in movements(order)] == ["reserve", "sale"]
    assert events("order_paid", order) == 1


@pytest.mark.django_db
def test_rejected_after_approved_is_ignored(client, mp_order, mercadopago):
    order, payment = mp_order
    fake_payment(mercadopago, order, payment, status="approved")
    post_webhook(client, "20359978", body=webhook_body("20359978", notification_id=1))
    mercadopago.replace(
        responses.GET,
        f"{MP_API}/v1/payments/20359978",
        json=mp_payment(order, status="rejected", payment=payment, mp_id=20359978),
    )
    post_webhook(client, "20359978", body=webhook_body("20359978", notification_id=2))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("approved", "paid")
    assert events("order_cancelled", order) == 0


@pytest.mark.django_db
def test_out_of_order_notifications_end_in_the_latest_provider_state(client, mp_order, mercadopago):
    """The `created` notification arrives after `updated`; both fetch the current state: approved."""
    order, payment = mp_order
    fake_payment(mercadopago, order, payment, status="approved")
    post_webhook(
        client, "20359978", body=webhook_body("20359978", notification_id=2, action="payment.updated")
    )
    post_webhook(
        client, "20359978", body=webhook_body("20359978", notification_id=1, action="payment.created")
    )

    results = dict(PaymentNotification.objects.values_list("provider_key", "result"))
    assert results == {
        "mercadopago:notification:2": "applied: pending → approved",
        "mercadopago:notification:1": "unchanged: approved",
    }
    order.refresh_from_db()
    assert order.status == "paid"
    assert [m[0] for m in movements(order)] == ["reserve", "sale"]


@pytest.mark.django_db
def test_a_notification_that_is_not_about_a_payment_is_kept_and_ignored(client, mp_order, mercadopago):
    body = webhook_body("30001") | {"type": "merchant_order", "action": "merchant_order.updated"}
    ts = str(int(time.time()))
    response = client.post(
        "/api/v1/payments/webhooks/mercadopago?data.id=30001&type=merchant_order",
        data=body,
        content_type="application/json",
        HTTP_X_SIGNATURE=sign("30001", "req-9", ts, SECRET),
        HTTP_X_REQUEST_ID="req-9",
    )
    assert response.status_code == 200
    notification = PaymentNotification.objects.get()
    assert (notification.topic, notification.result) == (
        "merchant_order",
        "ignored: not a payment notification (merchant_order)",
    )
    assert [c.request.method for c in mercadopago.calls] == ["POST"]  # nothing fetched


@pytest.mark.django_db
def test_a_notification_without_request_id_is_verified_without_that_part(client, mp_order, mercadopago):
    order, payment = mp_order
    fake_payment(mercadopago, order, payment, status="approved")
    ts = str(int(time.time()))
    with committed():
        response = client.post(
            "/api/v1/payments/webhooks/mercadopago?data.id=20359978&type=payment",
            data=webhook_body("20359978", notification_id=3333),
            content_type="application/json",
            HTTP_X_SIGNATURE=sign("20359978", None, ts),
        )
    assert response.status_code == 200
    assert PaymentNotification.objects.get().result == "applied: pending → approved"
