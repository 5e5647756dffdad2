"""Orders admin: changelist and order page open with pinned query counts that do not grow with rows;
the actions go through the services."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.orders.models import Order, Shipment
from apps.orders.services import order_mark_paid, order_ship
from tests.factories.accounts import StaffFactory, UserFactory
from tests.factories.inventory import stocked_variant

from .helpers import level, movements, place

pytestmark = pytest.mark.django_db
CHANGELIST = "admin:orders_order_changelist"


def _grow(n, variant=None):
    """n orders of 3 lines each, paid and shipped, with payments (real payments app)."""
    variant = variant or stocked_variant(1000)
    for _ in range(n):
        customer = UserFactory()
        order = place(customer, (variant, 1), (stocked_variant(5), 2), (stocked_variant(5), 1))
        order_mark_paid(order_id=str(order.id))
        order_ship(order_id=str(order.id), carrier="Olva", tracking_number=f"T-{order.number}")
    return variant


def _queries(client, url, method="get", data=None):
    with CaptureQueriesContext(connection) as ctx:
        response = getattr(client, method)(url, data) if data else getattr(client, method)(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


@pytest.mark.parametrize(
    "query,pinned",
    [
        ("", 6),
        ("status=shipped", 6),
        ("payment_status=pending", 6),
        ("q=SO-", 6),
        ("created_at__gte=2000-01-01+00%3A00%3A00%2B00%3A00", 6),
    ],
)
def test_changelist_opens_with_a_pinned_query_count(admin_client, real_payments, query, pinned):
    url = reverse(CHANGELIST) + (f"?{query}" if query else "")
    variant = _grow(2)
    admin_client.get(url)
    small = _queries(admin_client, url)
    _grow(6, variant)
    large = _queries(admin_client, url)
    assert small == large == pinned


def test_change_form_opens_with_a_pinned_query_count(admin_client, real_payments):
    variant = _grow(1)
    small_order = Order.objects.get()
    url = reverse("admin:orders_order_change", args=[small_order.pk])
    admin_client.get(url)
    small = _queries(admin_client, url)
    big = place(UserFactory(), *[(stocked_variant(5), 1) for _ in range(8)], (variant, 1))
    order_mark_paid(order_id=str(big.id))
    large = _queries(admin_client, reverse("admin:orders_order_change", args=[big.pk]))
    # session, user, order+customer, lines, discounts, payments, shipments, timeline, notifications
    assert small == large == 9


def test_changelist_filters_and_search(admin_client, real_payments):
    variant = stocked_variant(100)
    paid = place(UserFactory(email="paid@example.com"), (variant, 1))
    order_mark_paid(order_id=str(paid.id))
    pending = place(UserFactory(email="waiting@example.com"), (variant, 1))

    def listed(query):
        response = admin_client.get(reverse(CHANGELIST) + "?" + query)
        return {o.pk for o in response.context["cl"].result_list}

    assert listed("status=paid") == {paid.pk}
    assert listed("payment_status=pending") == {paid.pk, pending.pk}  # payments app status, not order's
    assert listed("q=waiting@") == {pending.pk}
    assert listed(f"q={paid.number}") == {paid.pk}


def test_order_page_shows_lines_payment_shipment_and_timeline(admin_client, real_payments):
    variant = stocked_variant(10)
    order = place(UserFactory(), (variant, 2))
    order_mark_paid(order_id=str(order.id))
    order_ship(order_id=str(order.id), carrier="Olva", tracking_number="TRK-77")
    html = admin_client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    for text in (variant.sku, "TRK-77", "pending_payment", "shipped", "dummy", order.number):
        assert text in html


def test_admin_cannot_add_or_delete_orders(admin_client, customer):
    order = place(customer, (stocked_variant(5), 1))
    assert admin_client.get(reverse("admin:orders_order_add")).status_code == 403
    assert admin_client.get(reverse("admin:orders_order_delete", args=[order.pk])).status_code == 403


def _act(client, action, orders, **extra):
    data = {"action": action, "_selected_action": [str(o.pk) for o in orders], **extra}
    response = client.post(reverse(CHANGELIST), data, follow=True)
    assert response.status_code == 200
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_ship_action_needs_carrier_and_one_order(admin_client, customer):
    variant = stocked_variant(10)
    a, b = place(customer, (variant, 1)), place(customer, (variant, 1))
    for order in (a, b):
        order_mark_paid(order_id=str(order.id))
    assert "Enter a carrier" in _act(admin_client, "ship", [a])[0]
    assert "one order at a time" in _act(admin_client, "ship", [a, b], carrier="Olva", tracking_number="X")[0]
    assert not Shipment.objects.exists()
    messages = _act(admin_client, "ship", [a], carrier="Olva", tracking_number="X-1")
    assert messages == ["1 order(s) shipped."]
    shipment = Shipment.objects.get()
    assert (shipment.order_id, shipment.tracking_number, shipment.created_by.is_superuser) == (
        a.pk,
        "X-1",
        True,
    )
    assert _act(admin_client, "deliver", [a]) == ["1 order(s) delivered."]
    a.refresh_from_db()
    assert a.status == "delivered"


def test_cancel_and_refund_actions_call_the_services(admin_client, customer, payment_fake):
    variant = stocked_variant(10)
    pending, paid = place(customer, (variant, 2)), place(customer, (variant, 3))
    payment_fake.approve(str(paid.id))
    order_mark_paid(order_id=str(paid.id))
    assert _act(admin_client, "cancel", [pending]) == ["1 order(s) cancelled."]
    assert _act(admin_client, "refund", [paid]) == ["1 order(s) refunded."]
    pending.refresh_from_db()
    paid.refresh_from_db()
    assert (pending.status, paid.status) == ("cancelled", "refunded")
    assert movements(paid)[-1] == ("receive", 3, 0)
    assert level(variant) == (10, 0)
    errors = _act(admin_client, "refund", [pending])
    assert errors == [f"{pending.number}: An order that is cancelled cannot become refunded."]


def test_support_role_sees_orders_without_superuser(client):
    staff = StaffFactory(roles=["customer_support"])
    client.force_login(staff)
    order = place(UserFactory(), (stocked_variant(5), 1))
    assert client.get(reverse(CHANGELIST)).status_code == 200
    assert client.get(reverse("admin:orders_order_change", args=[order.pk])).status_code == 200
