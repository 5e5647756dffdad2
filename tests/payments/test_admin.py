"""Payments admin: every page opens with a pinned query count that does not grow with rows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.payments.models import Payment, PaymentNotification
from tests.factories.payments import PaymentFactory, PaymentNotificationFactory

pytestmark = pytest.mark.django_db


def _grow(n: int) -> None:
    """n payments, each with two notifications."""
    for _ in range(n):
        payment = PaymentFactory(
            provider="mercadopago", provider_reference="pref-1", raw={"payment": {"id": 1}}
        )
        PaymentNotificationFactory.create_batch(2, payment=payment)


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


CHANGELISTS = {
    "payment": ("admin:payments_payment_changelist", None, 6),
    "payment-filtered": ("admin:payments_payment_changelist", "provider=mercadopago&status=pending", 6),
    "payment-search": ("admin:payments_payment_changelist", "q=TS-", 6),
    "notification": ("admin:payments_paymentnotification_changelist", None, 7),
    "notification-unprocessed": (
        "admin:payments_paymentnotification_changelist",
        "processed_at__isempty=1",
        7,
    ),
}


@pytest.mark.parametrize("name", list(CHANGELISTS))
def test_changelist_opens_with_a_pinned_query_count(admin_client, name):
    url_name, query, pinned = CHANGELISTS[name]
    url = reverse(url_name) + (f"?{query}" if query else "")
    _grow(2)
    admin_client.get(url)  # warm caches (content types, session)
    small = _queries(admin_client, url)
    _grow(8)
    large = _queries(admin_client, url)
    assert (small, large) == (pinned, pinned)


def test_payment_change_form_opens_with_a_pinned_query_count(admin_client):
    _grow(1)
    payment = Payment.objects.get()
    PaymentNotificationFactory.create_batch(5, payment=payment)
    url = reverse("admin:payments_payment_change", args=[payment.pk])
    admin_client.get(url)
    assert _queries(admin_client, url) == 4


def test_notification_change_form_opens_with_a_pinned_query_count(admin_client):
    _grow(1)
    notification = PaymentNotification.objects.first()
    url = reverse("admin:payments_paymentnotification_change", args=[notification.pk])
    admin_client.get(url)
    assert _queries(admin_client, url) == 4


def test_payments_cannot_be_added_deleted_or_edited_by_hand(admin_client):
    _grow(1)
    payment = Payment.objects.get()
    assert admin_client.get(reverse("admin:payments_payment_add")).status_code == 403
    assert admin_client.get(reverse("admin:payments_payment_delete", args=[payment.pk])).status_code == 403
    response = admin_client.post(
        reverse("admin:payments_payment_change", args=[payment.pk]), {"amount": "0.01", "status": "approved"}
    )
    assert response.status_code in (200, 302)
    payment.refresh_from_db()
    assert (payment.amount, payment.status) == (payment.order.total, "pending")


def test_search_finds_a_payment_by_order_number_and_provider_reference(admin_client):
    hit = PaymentFactory(provider_reference="pref-XYZ")
    PaymentFactory(provider_reference="pref-other")
    url = reverse("admin:payments_payment_changelist")
    for query in (hit.order.number, "pref-XYZ"):
        response = admin_client.get(url, {"q": query})
        assert list(response.context["cl"].result_list) == [hit]


def test_process_again_action_runs_unprocessed_notifications_through_the_service(
    admin_client, customer, variant
):
    from apps.payments.providers.dummy import simulated_payment_id

    from .conftest import committed, place

    order, info = place(customer, (variant, 1))
    resource = simulated_payment_id(info.id, "approved")
    notification = PaymentNotificationFactory(
        provider="dummy", provider_key=f"dummy:{resource}", resource_id=resource, processed_at=None, result=""
    )
    with committed():
        response = admin_client.post(
            reverse("admin:payments_paymentnotification_changelist"),
            {"action": "process_again", "_selected_action": [notification.pk]},
            follow=True,
        )
    assert response.status_code == 200
    assert "1 processed, 0 failed" in response.content.decode()
    notification.refresh_from_db()
    order.refresh_from_db()
    assert (notification.result, order.status) == ("applied: pending → approved", "paid")
