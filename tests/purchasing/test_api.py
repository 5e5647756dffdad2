import datetime
from decimal import Decimal

import pytest

from apps.inventory.models import Location, ReorderAlert, StockLevel
from apps.inventory.services import stock_level_set_reorder
from apps.purchasing.models import PurchaseOrder, Supplier
from apps.purchasing.services import LineInput, purchase_order_create, purchase_order_place
from tests.factories.catalog import VariantFactory
from tests.factories.purchasing import SupplierFactory, SupplierProductFactory

pytestmark = pytest.mark.django_db
API = "/api/v1"


@pytest.fixture
def clerk(role_client):
    return role_client("inventory_clerk")


def _draft(**kwargs):
    variant = kwargs.pop("variant", None) or VariantFactory()
    return purchase_order_create(
        supplier=kwargs.pop("supplier", None) or SupplierFactory(),
        lines=[LineInput(variant_id=variant.pk, quantity=4, unit_cost=Decimal("2.25"))],
        **kwargs,
    )


def _placed():
    order = _draft()
    purchase_order_place(order=order)
    return order


def _alerted():
    variant = SupplierProductFactory().variant
    level = StockLevel.objects.create(variant=variant, location=Location.objects.get(is_default=True))
    stock_level_set_reorder(level_id=level.pk, reorder_point=2, reorder_qty=5)


# (method, path builder, body builder, expected success status)
OPERATIONS = {
    "list suppliers": ("get", lambda: "/suppliers", None, 200),
    "create supplier": ("post", lambda: "/suppliers", lambda: {"name": "Nuevo"}, 201),
    "get supplier": ("get", lambda: f"/suppliers/{SupplierFactory().pk}", None, 200),
    "patch supplier": ("patch", lambda: f"/suppliers/{SupplierFactory().pk}", lambda: {"phone": "1"}, 200),
    "list orders": ("get", lambda: "/purchase-orders", None, 200),
    "create order": (
        "post",
        lambda: "/purchase-orders",
        lambda: {
            "supplier": SupplierFactory().pk,
            "lines": [{"variant": VariantFactory().pk, "quantity": 2, "unit_cost": "1.00"}],
        },
        201,
    ),
    "get order": ("get", lambda: f"/purchase-orders/{_draft().pk}", None, 200),
    "place order": ("post", lambda: f"/purchase-orders/{_draft().pk}/place", None, 200),
    "cancel order": ("post", lambda: f"/purchase-orders/{_draft().pk}/cancel", None, 200),
    "receive order": ("post", lambda: f"/purchase-orders/{_placed().pk}/receive", None, 200),
    "suggest orders": ("post", lambda: (_alerted(), "/purchase-orders/suggest")[1], None, 201),
}


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize(
    ("who", "expected"),
    [("anonymous", 401), ("customer", 403), ("staff", 403), ("catalog_manager", 403), ("clerk", None)],
)
def test_permission_matrix(operation, who, expected, api_client, customer_client, staff_client, role_client):
    method, path, body, success = OPERATIONS[operation]
    client = {
        "anonymous": api_client,
        "customer": customer_client,
        "staff": staff_client,
        "catalog_manager": role_client("catalog_manager") if who == "catalog_manager" else None,
        "clerk": role_client("inventory_clerk") if who == "clerk" else None,
    }[who]
    url, data = API + path(), body() if body else None
    orders_setup, suppliers_setup = PurchaseOrder.objects.count(), Supplier.objects.count()

    response = getattr(client, method)(url, data, format="json")

    assert response.status_code == (expected or success), response.content
    if expected:
        assert response.json()["error"]["code"] in ("not_authenticated", "permission_denied")
        # A refused request changes nothing.
        assert (PurchaseOrder.objects.count(), Supplier.objects.count()) == (orders_setup, suppliers_setup)


def test_superuser_can_do_everything(admin_client_api):
    response = admin_client_api.post(f"{API}/purchase-orders/{_draft().pk}/place")
    assert response.status_code == 200


# --- shapes ------------------------------------------------------------------------------------


def test_create_supplier_and_read_it_back(clerk):
    response = clerk.post(
        f"{API}/suppliers",
        {
            "name": "Lácteos del Sur",
            "tax_id": "30-1",
            "email": "v@sur.example",
            "phone": "+54",
            "lead_time_days": 3,
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    supplier = Supplier.objects.get()
    assert body == {
        "id": supplier.pk,
        "name": "Lácteos del Sur",
        "tax_id": "30-1",
        "email": "v@sur.example",
        "phone": "+54",
        "lead_time_days": 3,
        "is_active": True,
        "created_at": supplier.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert clerk.get(f"{API}/suppliers/{supplier.pk}").json() == body


def test_create_supplier_with_a_taken_name_is_400(clerk):
    SupplierFactory(name="Acme")
    response = clerk.post(f"{API}/suppliers", {"name": "ACME"}, format="json")
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "invalid",
        "message": "Invalid input.",
        "details": {"name": ["A supplier with this name already exists."]},
    }


def test_patch_supplier_changes_given_fields(clerk):
    supplier = SupplierFactory(name="Old", lead_time_days=5)
    response = clerk.patch(f"{API}/suppliers/{supplier.pk}", {"lead_time_days": 10, "is_active": False})
    assert response.status_code == 200
    assert (response.json()["lead_time_days"], response.json()["is_active"], response.json()["name"]) == (
        10,
        False,
        "Old",
    )


def test_supplier_list_filters_by_search(clerk):
    SupplierFactory(name="Bebidas SA")
    SupplierFactory(name="Limpieza SRL")
    body = clerk.get(f"{API}/suppliers?search=bebi").json()
    assert body["count"] == 1 and body["results"][0]["name"] == "Bebidas SA"


def test_create_purchase_order_shape(clerk, settings):
    supplier = SupplierFactory(lead_time_days=2)
    v1, v2 = VariantFactory(), VariantFactory()
    response = clerk.post(
        f"{API}/purchase-orders",
        {
            "supplier": supplier.pk,
            "notes": "Urgent",
            "lines": [
                {"variant": v1.pk, "quantity": 10, "unit_cost": "1.25"},
                {"variant": v2.pk, "quantity": 1, "unit_cost": "100"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    order = PurchaseOrder.objects.get()
    l1, l2 = order.lines.order_by("pk")
    assert response.json() == {
        "id": order.pk,
        "number": f"PO-{order.pk:06d}",
        "supplier": supplier.pk,
        "location": Location.objects.get(is_default=True).pk,
        "status": "draft",
        "expected_date": order.expected_date.isoformat(),
        "notes": "Urgent",
        "lines": [
            {"id": l1.pk, "variant": v1.pk, "quantity": 10, "received_quantity": 0, "unit_cost": "1.25"},
            {"id": l2.pk, "variant": v2.pk, "quantity": 1, "received_quantity": 0, "unit_cost": "100.00"},
        ],
        "total": "112.50",
        "currency": settings.SHOP_CURRENCY,
        "created_at": order.created_at.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "placed_at": None,
        "received_at": None,
        "cancelled_at": None,
    }
    assert order.created_by == clerk.user


def test_currency_is_the_store_currency(clerk, settings):
    settings.SHOP_CURRENCY = "CLP"
    order = _draft()
    assert clerk.get(f"{API}/purchase-orders/{order.pk}").json()["currency"] == "CLP"


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ({"supplier": 1, "lines": []}, {"lines": {"non_field_errors": ["This list may not be empty."]}}),
        ("bad_variant", {"lines": {"0": {"variant": ['Invalid pk "999999" - object does not exist.']}}}),
        (
            "negative_cost",
            {"lines": {"0": {"unit_cost": ["Ensure this value is greater than or equal to 0."]}}},
        ),
        ("zero_qty", {"lines": {"0": {"quantity": ["Ensure this value is greater than or equal to 1."]}}}),
    ],
)
def test_create_purchase_order_with_bad_input_is_400_and_writes_nothing(clerk, body, details):
    supplier = SupplierFactory()
    variant = VariantFactory()
    line = {"variant": variant.pk, "quantity": 1, "unit_cost": "1"}
    if body == "bad_variant":
        line["variant"] = 999999
    elif body == "negative_cost":
        line["unit_cost"] = "-1"
    elif body == "zero_qty":
        line["quantity"] = 0
    if isinstance(body, str):
        body = {"supplier": supplier.pk, "lines": [line]}
    else:
        body["supplier"] = supplier.pk
    response = clerk.post(f"{API}/purchase-orders", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert response.json()["error"]["details"] == details
    assert PurchaseOrder.objects.count() == 0


def test_place_cancel_receive_through_the_api(clerk):
    order = _draft()
    assert clerk.post(f"{API}/purchase-orders/{order.pk}/place").json()["status"] == "placed"
    line = order.lines.get()
    response = clerk.post(
        f"{API}/purchase-orders/{order.pk}/receive",
        {"lines": [{"line": line.pk, "quantity": 1}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "partially_received"
    assert response.json()["lines"][0]["received_quantity"] == 1
    response = clerk.post(f"{API}/purchase-orders/{order.pk}/receive")
    assert (response.json()["status"], response.json()["lines"][0]["received_quantity"]) == ("received", 4)
    assert StockLevel.objects.get(variant=line.variant, location=order.location).on_hand == 4


def test_illegal_transition_is_409_invalid_transition(clerk):
    order = _draft()
    response = clerk.post(f"{API}/purchase-orders/{order.pk}/receive")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert response.json()["error"]["details"] == {"status": "draft", "target": "received"}
    clerk.post(f"{API}/purchase-orders/{order.pk}/cancel")
    response = clerk.post(f"{API}/purchase-orders/{order.pk}/place")
    assert (response.status_code, response.json()["error"]["code"]) == (409, "invalid_transition")
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_over_receiving_is_409_with_details(clerk):
    order = _placed()
    line = order.lines.get()
    response = clerk.post(
        f"{API}/purchase-orders/{order.pk}/receive",
        {"lines": [{"line": line.pk, "quantity": 5}]},
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "over_receipt"
    assert response.json()["error"]["details"] == {
        "lines": [
            {
                "line": line.pk,
                "variant": line.variant_id,
                "ordered": 4,
                "received": 0,
                "outstanding": 4,
                "requested": 5,
            }
        ]
    }
    assert not StockLevel.objects.filter(variant=line.variant, on_hand__gt=0).exists()


def test_actions_on_an_unknown_order_are_404(clerk):
    for path in ("/purchase-orders/999999", "/suppliers/999999"):
        response = clerk.get(API + path)
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    for action in ("place", "cancel", "receive"):
        response = clerk.post(f"{API}/purchase-orders/999999/{action}")
        assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")


def test_suggest_returns_created_drafts_and_reports_unassigned_alerts(clerk):
    _alerted()
    orphan = VariantFactory()
    level = StockLevel.objects.create(variant=orphan, location=Location.objects.get(is_default=True))
    stock_level_set_reorder(level_id=level.pk, reorder_point=1, reorder_qty=1)
    orphan_alert = ReorderAlert.objects.get(stock_level=level)

    response = clerk.post(f"{API}/purchase-orders/suggest")

    assert response.status_code == 201
    [order] = response.json()
    assert order["status"] == "draft" and order["lines"][0]["quantity"] == 5
    assert response["X-Unassigned-Reorder-Alerts"] == str(orphan_alert.pk)
    again = clerk.post(f"{API}/purchase-orders/suggest")
    assert (again.status_code, again.json()) == (201, [])


def test_list_filters_by_status(clerk):
    _draft()
    placed = _placed()
    body = clerk.get(f"{API}/purchase-orders?status=placed").json()
    assert [o["id"] for o in body["results"]] == [placed.pk]


def test_list_query_count_does_not_grow_with_orders(clerk, django_assert_num_queries):
    for _ in range(3):
        _draft()
    # user, user perms, group perms, count, page, lines (one prefetch)
    with django_assert_num_queries(6) as captured:
        clerk.get(f"{API}/purchase-orders")
    for _ in range(5):
        _draft()
    with django_assert_num_queries(len(captured.captured_queries)):
        response = clerk.get(f"{API}/purchase-orders")
    assert response.json()["count"] == 8


def test_supplier_list_and_order_detail_query_counts_are_fixed(clerk, django_assert_num_queries):
    SupplierFactory.create_batch(3)
    # user, user perms, group perms, count, page
    with django_assert_num_queries(5):
        assert clerk.get(f"{API}/suppliers").json()["count"] == 3
    order = purchase_order_create(
        supplier=SupplierFactory(),
        lines=[
            LineInput(variant_id=VariantFactory().pk, quantity=1, unit_cost=Decimal("1")) for _ in range(6)
        ],
    )
    # user, user perms, group perms, order, lines
    with django_assert_num_queries(5):
        assert len(clerk.get(f"{API}/purchase-orders/{order.pk}").json()["lines"]) == 6


def test_a_retried_partial_receipt_with_the_same_idempotency_key_is_received_once(clerk):
    order = _placed()
    line = order.lines.get()
    url = f"{API}/purchase-orders/{order.pk}/receive"
    body = {"lines": [{"line": line.pk, "quantity": 1}]}
    first = clerk.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="receipt-1")
    again = clerk.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="receipt-1")
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json() == first.json()
    line.refresh_from_db()
    assert line.received_quantity == 1
    assert StockLevel.objects.get(variant=line.variant, location=order.location).on_hand == 1
    other = clerk.post(
        url, {"lines": [{"line": line.pk, "quantity": 2}]}, format="json", HTTP_IDEMPOTENCY_KEY="receipt-1"
    )
    assert other.status_code == 422


def test_a_retried_create_with_the_same_idempotency_key_makes_one_order(clerk):
    body = {
        "supplier": SupplierFactory().pk,
        "lines": [{"variant": VariantFactory().pk, "quantity": 2, "unit_cost": "1"}],
    }
    first = clerk.post(f"{API}/purchase-orders", body, format="json", HTTP_IDEMPOTENCY_KEY="po-1")
    again = clerk.post(f"{API}/purchase-orders", body, format="json", HTTP_IDEMPOTENCY_KEY="po-1")
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    assert PurchaseOrder.objects.count() == 1
