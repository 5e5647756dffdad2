"""POST /orders, GET /orders[/{id}], POST /orders/{id}/cancel and the staff endpoints."""

import uuid
from decimal import Decimal

import pytest

from apps.inventory.models import Reservation, StockMovement
from apps.orders.models import CartLine, Order, OrderEvent, Shipment
from apps.orders.services import order_mark_paid
from tests.factories.inventory import stocked_variant
from tests.factories.orders import ADDRESS

from .helpers import level, movements, place

pytestmark = pytest.mark.django_db


def post_order(client, body, key=None):
    return client.post("/api/v1/orders", body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


def test_place_order_from_lines_returns_the_full_shape(customer_client, settings, payment_fake):
    settings.SHOP_SHIPPING_FLAT_RATE = Decimal("10.00")
    settings.SHOP_FREE_SHIPPING_THRESHOLD = Decimal("150.00")
    a = stocked_variant(10, price=Decimal("19.90"))
    b = stocked_variant(10, price=Decimal("5.05"))
    response = post_order(
        customer_client,
        {
            "lines": [{"variant": a.pk, "quantity": 2}, {"variant": b.pk, "quantity": 1}],
            "shipping_address": ADDRESS,
        },
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    order = Order.objects.get()
    payment_id = payment_fake.by_order[str(order.id)]
    assert body == {
        "id": str(order.id),
        "number": order.number,
        "status": "pending_payment",
        "lines": [
            {
                "variant": a.pk,
                "sku": a.sku,
                "quantity": 2,
                "unit_price": "19.90",
                "discount": "0.00",
                "line_total": "39.80",
            },
            {
                "variant": b.pk,
                "sku": b.sku,
                "quantity": 1,
                "unit_price": "5.05",
                "discount": "0.00",
                "line_total": "5.05",
            },
        ],
        "subtotal": "44.85",
        "discount_total": "0.00",
        "shipping_total": "10.00",
        "total": "54.85",
        "currency": settings.SHOP_CURRENCY,
        "applied_benefits": [],
        "payment": {
            "id": payment_id,
            "provider": "fake",
            "status": "pending",
            "checkout_url": f"https://pay.example/{payment_id}",
        },
        "created_at": order.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert order.number.startswith(settings.SHOP_ORDER_NUMBER_PREFIX) and len(order.number) == 9
    assert order.shipping_address == ADDRESS
    assert level(a) == (10, 2) and level(b) == (10, 1)
    assert payment_fake.calls_of("checkout_start") == [payment_id]


def test_order_numbers_are_sequential_and_unique(customer_client, variant):
    numbers = [
        post_order(
            customer_client, {"lines": [{"variant": variant.pk, "quantity": 1}], "shipping_address": ADDRESS}
        ).json()["number"]
        for _ in range(3)
    ]
    values = [int(n.split("-")[1]) for n in numbers]
    assert values == sorted(values) and len(set(values)) == 3


@pytest.mark.postgres
def test_order_numbers_keep_every_digit_past_six(customer_client, variant, settings):
    from django.db import connection

    with connection.cursor() as cursor:  # sequences ignore rollbacks: restore it for the other tests
        cursor.execute("SELECT last_value, is_called FROM orders_order_number_seq")
        saved = cursor.fetchone()
        cursor.execute("SELECT setval('orders_order_number_seq', 999999)")
    try:
        response = post_order(
            customer_client, {"lines": [{"variant": variant.pk, "quantity": 1}], "shipping_address": ADDRESS}
        )
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT setval('orders_order_number_seq', %s, %s)", saved)
    assert response.json()["number"] == f"{settings.SHOP_ORDER_NUMBER_PREFIX}1000000"
    assert Order.objects.get().number == f"{settings.SHOP_ORDER_NUMBER_PREFIX}1000000"


def test_idempotency_key_is_required(customer_client, variant):
    response = customer_client.post(
        "/api/v1/orders",
        {"lines": [{"variant": variant.pk, "quantity": 1}], "shipping_address": ADDRESS},
        format="json",
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "idempotency_key_required"
    assert not Order.objects.exists()


def test_repeat_with_the_same_key_replays_the_first_response(customer_client, variant, payment_fake):
    body = {"lines": [{"variant": variant.pk, "quantity": 1}], "shipping_address": ADDRESS}
    first = post_order(customer_client, body, key="k-1")
    second = post_order(customer_client, body, key="k-1")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert Order.objects.count() == 1 and len(payment_fake.calls_of("checkout_start")) == 1
    other = post_order(
        customer_client, {**body, "lines": [{"variant": variant.pk, "quantity": 2}]}, key="k-1"
    )
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"


def test_checkout_of_the_cart_empties_it(customer_client, customer):
    a, b = stocked_variant(10), stocked_variant(10)
    customer_client.post("/api/v1/cart/lines", {"variant": a.pk, "quantity": 2}, format="json")
    customer_client.post("/api/v1/cart/lines", {"variant": b.pk, "quantity": 1}, format="json")
    response = post_order(customer_client, {"shipping_address": ADDRESS})
    assert response.status_code == 201
    assert sorted((line["variant"], line["quantity"]) for line in response.json()["lines"]) == [
        (a.pk, 2),
        (b.pk, 1),
    ]
    assert not CartLine.objects.filter(cart__customer=customer).exists()


def test_checkout_of_an_empty_cart_is_400(customer_client):
    response = post_order(customer_client, {"shipping_address": ADDRESS})
    assert response.status_code == 400 and response.json()["error"]["code"] == "cart_empty"


def test_failed_cart_checkout_keeps_the_cart(customer_client, customer):
    short = stocked_variant(1)
    customer_client.post("/api/v1/cart/lines", {"variant": short.pk, "quantity": 3}, format="json")
    response = post_order(customer_client, {"shipping_address": ADDRESS})
    assert response.status_code == 409
    assert CartLine.objects.filter(cart__customer=customer).count() == 1


def test_short_stock_is_409_listing_every_short_line_with_nothing_reserved(customer_client, payment_fake):
    ok = stocked_variant(10)
    short_a = stocked_variant(2)
    short_b = stocked_variant(0)
    response = post_order(
        customer_client,
        {
            "lines": [
                {"variant": ok.pk, "quantity": 1},
                {"variant": short_a.pk, "quantity": 3},
                {"variant": short_b.pk, "quantity": 1},
            ],
            "shipping_address": ADDRESS,
        },
    )
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "insufficient_stock"
    assert error["details"]["lines"] == sorted(
        [
            {"variant": short_a.pk, "requested": 3, "available": 2},
            {"variant": short_b.pk, "requested": 1, "available": 0},
        ],
        key=lambda line: line["variant"],
    )
    assert not Order.objects.exists() and not Reservation.objects.exists()
    assert not StockMovement.objects.filter(kind="reserve").exists()
    assert level(ok) == (10, 0)
    assert payment_fake.calls_of("checkout_start") == []  # the payment opened in the transaction rolled back


def test_unavailable_variant_is_400_and_nothing_is_created(customer_client):
    inactive = stocked_variant(10, is_active=False)
    response = post_order(
        customer_client, {"lines": [{"variant": inactive.pk, "quantity": 1}], "shipping_address": ADDRESS}
    )
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "variant_unavailable",
        "message": "Some variants do not exist or are not for sale.",
        "details": {"lines": [{"variant": inactive.pk, "code": "inactive_variant"}]},
    }
    assert not Order.objects.exists()


def test_unknown_promotion_code_is_400(customer_client, variant):
    response = post_order(
        customer_client,
        {
            "lines": [{"variant": variant.pk, "quantity": 1}],
            "shipping_address": ADDRESS,
            "promotion_code": "X",
        },
    )
    assert response.status_code == 400 and response.json()["error"]["code"] == "promotion_not_found"
    assert not Order.objects.exists() and level(variant) == (10, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"lines": [{"variant": 1, "quantity": 1}]},
        {"lines": [], "shipping_address": ADDRESS},
        {"lines": [{"variant": 1, "quantity": 0}], "shipping_address": ADDRESS},
        {"lines": [{"variant": 1, "quantity": 1}], "shipping_address": {"name": "x"}},
    ],
)
def test_invalid_body_is_400_invalid(customer_client, body):
    response = post_order(customer_client, body)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert not Order.objects.exists()


def test_anonymous_cannot_order(api_client, variant):
    response = post_order(
        api_client, {"lines": [{"variant": variant.pk, "quantity": 1}], "shipping_address": ADDRESS}
    )
    assert response.status_code == 401


def test_list_and_detail_show_only_own_orders(customer_client, other_customer_client, customer, variant):
    mine = place(customer, (variant, 1))
    theirs = place(other_customer_client.user, (variant, 1))
    listed = customer_client.get("/api/v1/orders").json()
    assert listed["count"] == 1 and [o["id"] for o in listed["results"]] == [str(mine.id)]
    assert customer_client.get(f"/api/v1/orders/{mine.id}").json()["id"] == str(mine.id)
    for path in (
        f"/api/v1/orders/{theirs.id}",
        "/api/v1/orders/not-a-uuid",
        f"/api/v1/orders/{uuid.uuid4()}",
    ):
        response = customer_client.get(path)
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_cancelling_another_customers_order_is_404_and_changes_nothing(
    other_customer_client, customer, variant
):
    order = place(customer, (variant, 2))
    response = other_customer_client.post(f"/api/v1/orders/{order.id}/cancel", {}, format="json")
    assert response.status_code == 404
    order.refresh_from_db()
    assert order.status == "pending_payment" and level(variant) == (10, 2)


def test_customer_cancels_own_unpaid_order(customer_client, customer, variant):
    order = place(customer, (variant, 2))
    response = customer_client.post(
        f"/api/v1/orders/{order.id}/cancel", {"reason": "too slow"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert response.json()["payment"]["status"] == "cancelled"
    assert level(variant) == (10, 0)
    assert OrderEvent.objects.get(order=order, to_status="cancelled").reason == "too slow"


def test_customer_cannot_cancel_a_shipped_order(customer_client, customer, variant):
    order = place(customer, (variant, 1))
    order_mark_paid(order_id=str(order.id))
    from apps.orders.services import order_ship

    order_ship(order_id=str(order.id), carrier="Olva", tracking_number="T1")
    response = customer_client.post(f"/api/v1/orders/{order.id}/cancel", {}, format="json")
    assert response.status_code == 409 and response.json()["error"]["code"] == "invalid_transition"


def test_order_list_query_count_is_pinned(customer_client, customer, django_assert_num_queries):
    variant = stocked_variant(100)
    for count in (1, 6):
        while Order.objects.filter(customer=customer).count() < count:
            place(customer, (variant, 1), (stocked_variant(5), 1))
        # user, count, page, lines, discounts (payments come through the port: the fake does no SQL)
        with django_assert_num_queries(5):
            assert len(customer_client.get("/api/v1/orders").json()["results"]) == count


# ---- staff ----


@pytest.fixture
def support_client(role_client):
    return role_client("customer_support")


def test_admin_endpoints_need_the_role(customer_client, staff_client, customer, variant):
    order = place(customer, (variant, 1))
    for client in (customer_client, staff_client):
        assert client.get("/api/v1/admin/orders").status_code == 403
        assert client.get(f"/api/v1/admin/orders/{order.id}").status_code == 403
        assert client.post(f"/api/v1/admin/orders/{order.id}/refund", {}, format="json").status_code == 403
        assert client.post(f"/api/v1/admin/orders/{order.id}/cancel", {}, format="json").status_code == 403
        response = client.post(
            f"/api/v1/admin/orders/{order.id}/shipments",
            {"carrier": "x", "tracking_number": "y"},
            format="json",
        )
        assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == "pending_payment"


def test_staff_lists_and_filters_all_orders(support_client, customer, other_customer_client, variant):
    mine = place(customer, (variant, 1))
    theirs = place(other_customer_client.user, (variant, 1))
    order_mark_paid(order_id=str(theirs.id))
    body = support_client.get("/api/v1/admin/orders").json()
    assert body["count"] == 2
    assert {r["customer"]["email"] for r in body["results"]} == {
        customer.email,
        other_customer_client.user.email,
    }
    paid = support_client.get("/api/v1/admin/orders?status=paid").json()["results"]
    assert [r["id"] for r in paid] == [str(theirs.id)]
    found = support_client.get(f"/api/v1/admin/orders?search={mine.number}").json()["results"]
    assert [r["id"] for r in found] == [str(mine.id)]
    by_email = support_client.get(f"/api/v1/admin/orders?search={customer.email}").json()["results"]
    assert [r["id"] for r in by_email] == [str(mine.id)]


def test_staff_ship_and_deliver_through_the_api(support_client, customer, variant):
    order = place(customer, (variant, 2))
    early = support_client.post(
        f"/api/v1/admin/orders/{order.id}/shipments",
        {"carrier": "Olva", "tracking_number": "T-9"},
        format="json",
    )
    assert early.status_code == 409 and early.json()["error"]["code"] == "invalid_transition"
    order_mark_paid(order_id=str(order.id))
    response = support_client.post(
        f"/api/v1/admin/orders/{order.id}/shipments",
        {"carrier": "Olva", "tracking_number": "T-9"},
        format="json",
    )
    assert response.status_code == 201
    shipment = Shipment.objects.get()
    assert response.json() == {
        "id": shipment.pk,
        "status": "shipped",
        "carrier": "Olva",
        "tracking_number": "T-9",
        "shipped_at": response.json()["shipped_at"],
        "delivered_at": None,
        "order": str(order.id),
    }
    bad = support_client.patch(f"/api/v1/admin/shipments/{shipment.pk}", {"status": "shipped"}, format="json")
    assert bad.status_code == 400
    delivered = support_client.patch(
        f"/api/v1/admin/shipments/{shipment.pk}", {"status": "delivered"}, format="json"
    )
    assert delivered.status_code == 200 and delivered.json()["status"] == "delivered"
    order.refresh_from_db()
    assert order.status == "delivered"
    again = support_client.patch(
        f"/api/v1/admin/shipments/{shipment.pk}", {"status": "delivered"}, format="json"
    )
    assert again.status_code == 409
    assert (
        support_client.patch(
            "/api/v1/admin/shipments/999999", {"status": "delivered"}, format="json"
        ).status_code
        == 404
    )
    detail = support_client.get(f"/api/v1/admin/orders/{order.id}").json()
    assert [(e["from_status"], e["to_status"]) for e in detail["events"]] == [
        ("", "pending_payment"),
        ("pending_payment", "paid"),
        ("paid", "shipped"),
        ("shipped", "delivered"),
    ]
    assert detail["shipments"][0]["status"] == "delivered"


def test_staff_refund_returns_units_and_reports_the_order(support_client, customer, variant, payment_fake):
    order = place(customer, (variant, 3))
    payment_fake.approve(str(order.id))
    order_mark_paid(order_id=str(order.id))
    response = support_client.post(
        f"/api/v1/admin/orders/{order.id}/refund", {"reason": "defect"}, format="json"
    )
    assert response.status_code == 200 and response.json()["status"] == "refunded"
    assert response.json()["payment"]["status"] == "refunded"
    assert movements(order)[-1] == ("receive", 3, 0)
    assert level(variant) == (10, 0)
    again = support_client.post(f"/api/v1/admin/orders/{order.id}/refund", {}, format="json")
    assert again.status_code == 409


def test_staff_cancel_of_any_order(support_client, customer, variant):
    order = place(customer, (variant, 1))
    response = support_client.post(f"/api/v1/admin/orders/{order.id}/cancel", {}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    event = OrderEvent.objects.get(order=order, to_status="cancelled")
    assert event.actor.is_staff and event.reason == "cancelled by staff"


def test_admin_unknown_order_is_404(support_client):
    for path in ("/api/v1/admin/orders/nope", f"/api/v1/admin/orders/{uuid.uuid4()}"):
        assert support_client.get(path).status_code == 404
    response = support_client.post(f"/api/v1/admin/orders/{uuid.uuid4()}/refund", {}, format="json")
    assert response.status_code == 404


def test_admin_list_query_count_is_pinned(support_client, customer, django_assert_num_queries):
    variant = stocked_variant(100)
    for count in (1, 6):
        while Order.objects.count() < count:
            place(customer, (variant, 1))
        # user, user perms, group perms, count, page with customer, lines, discounts
        with django_assert_num_queries(7):
            assert len(support_client.get("/api/v1/admin/orders").json()["results"]) == count


def test_provider_down_after_commit_still_answers_201_with_the_order(customer_client, variant, payment_fake):
    def down(*, payment_id):
        raise ConnectionError("provider unreachable")

    payment_fake.payment_checkout_start = down
    response = post_order(
        customer_client, {"lines": [{"variant": variant.pk, "quantity": 1}], "shipping_address": ADDRESS}
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["status"], body["payment"]["status"], body["payment"]["checkout_url"]) == (
        "pending_payment",
        "pending",
        "",
    )
    assert Order.objects.count() == 1 and level(variant) == (10, 1)
