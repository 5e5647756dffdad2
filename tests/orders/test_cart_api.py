"""GET /cart, POST /cart/lines, PATCH/DELETE /cart/lines/{id}."""

from decimal import Decimal

import pytest

from apps.inventory.services import StockLine, stock_reserve
from apps.orders.models import CartLine
from tests.factories.catalog import VariantFactory
from tests.factories.inventory import stocked_variant

pytestmark = pytest.mark.django_db


def test_cart_is_created_lazily_and_empty(customer_client, settings):
    response = customer_client.get("/api/v1/cart")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": body["id"],
        "lines": [],
        "subtotal": "0.00",
        "discount_total": "0.00",
        "total": "0.00",
        "currency": settings.SHOP_CURRENCY,
        "problems": [],
    }
    assert customer_client.get("/api/v1/cart").json()["id"] == body["id"]


def test_cart_needs_authentication(api_client):
    assert api_client.get("/api/v1/cart").status_code == 401


def test_adding_a_variant_twice_increments_one_line(customer_client):
    variant = stocked_variant(10, price=Decimal("12.50"))
    first = customer_client.post("/api/v1/cart/lines", {"variant": variant.pk, "quantity": 2}, format="json")
    assert first.status_code == 201
    second = customer_client.post("/api/v1/cart/lines", {"variant": variant.pk, "quantity": 3}, format="json")
    body = second.json()
    assert body["lines"] == [
        {
            "id": body["lines"][0]["id"],
            "variant": variant.pk,
            "sku": variant.sku,
            "quantity": 5,
            "unit_price": "12.50",
            "line_total": "62.50",
        }
    ]
    assert (body["subtotal"], body["total"], body["problems"]) == ("62.50", "62.50", [])
    assert CartLine.objects.count() == 1


@pytest.mark.parametrize("payload", [{"variant": 1, "quantity": 0}, {"variant": 1}, {"quantity": 1}, {}])
def test_bad_line_input_is_400(customer_client, payload):
    response = customer_client.post("/api/v1/cart/lines", payload, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid"
    assert not CartLine.objects.exists()


def test_adding_an_inactive_or_unknown_variant_is_refused(customer_client):
    inactive = VariantFactory(is_active=False)
    for variant_id in (inactive.pk, 999999):
        response = customer_client.post(
            "/api/v1/cart/lines", {"variant": variant_id, "quantity": 1}, format="json"
        )
        assert response.status_code == 400 and response.json()["error"]["code"] == "variant_unavailable"
    assert not CartLine.objects.exists()


def test_update_and_delete_a_line(customer_client):
    variant = stocked_variant(10)
    body = customer_client.post(
        "/api/v1/cart/lines", {"variant": variant.pk, "quantity": 1}, format="json"
    ).json()
    line_id = body["lines"][0]["id"]
    patched = customer_client.patch(f"/api/v1/cart/lines/{line_id}", {"quantity": 4}, format="json")
    assert patched.status_code == 200 and patched.json()["lines"][0]["quantity"] == 4
    deleted = customer_client.delete(f"/api/v1/cart/lines/{line_id}")
    assert deleted.status_code == 200 and deleted.json()["lines"] == []
    assert not CartLine.objects.exists()


def test_another_customers_line_is_404(customer_client, other_customer_client):
    variant = stocked_variant(10)
    body = customer_client.post(
        "/api/v1/cart/lines", {"variant": variant.pk, "quantity": 1}, format="json"
    ).json()
    line_id = body["lines"][0]["id"]
    for response in (
        other_customer_client.patch(f"/api/v1/cart/lines/{line_id}", {"quantity": 9}, format="json"),
        other_customer_client.delete(f"/api/v1/cart/lines/{line_id}"),
    ):
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    assert CartLine.objects.get(pk=line_id).quantity == 1
    assert other_customer_client.get("/api/v1/cart").json()["lines"] == []


def test_problems_are_listed_instead_of_failing(customer_client, customer):
    ok = stocked_variant(10, price=Decimal("5.00"))
    gone = stocked_variant(0)
    short = stocked_variant(3)
    retired = stocked_variant(10)
    repriced = stocked_variant(10, price=Decimal("8.00"))
    for variant, qty in ((ok, 1), (gone, 1), (short, 2), (retired, 1), (repriced, 1)):
        customer_client.post("/api/v1/cart/lines", {"variant": variant.pk, "quantity": qty}, format="json")
    # Someone else holds 2 of the 3 `short` units; `retired` leaves the catalog; `repriced` changes price.
    stock_reserve(lines=[StockLine(variant_id=short.pk, quantity=2)], reference="other")
    retired.is_active = False
    retired.save()
    repriced.price = Decimal("9.00")
    repriced.save()

    body = customer_client.get("/api/v1/cart").json()
    line_of = {line["variant"]: line["id"] for line in body["lines"]}
    assert sorted((p["line"], p["code"]) for p in body["problems"]) == sorted(
        [
            (line_of[gone.pk], "out_of_stock"),
            (line_of[short.pk], "insufficient_stock"),
            (line_of[retired.pk], "inactive_variant"),
            (line_of[repriced.pk], "price_changed"),
        ]
    )
    repriced_line = next(line for line in body["lines"] if line["variant"] == repriced.pk)
    assert repriced_line["unit_price"] == "9.00"  # the cart shows what checkout would charge


def test_touching_a_repriced_line_accepts_the_new_price(customer_client):
    variant = stocked_variant(10, price=Decimal("8.00"))
    body = customer_client.post(
        "/api/v1/cart/lines", {"variant": variant.pk, "quantity": 1}, format="json"
    ).json()
    variant.price = Decimal("9.00")
    variant.save()
    customer_client.patch(f"/api/v1/cart/lines/{body['lines'][0]['id']}", {"quantity": 2}, format="json")
    assert customer_client.get("/api/v1/cart").json()["problems"] == []


def test_cart_query_count_is_pinned_and_does_not_grow_with_lines(customer_client, django_assert_num_queries):
    # user (JWT), cart, lines with variant and product, availability — whatever the number of lines.
    for count in (2, 10):
        while customer_client.get("/api/v1/cart").json()["lines"].__len__() < count:
            variant = stocked_variant(5)
            customer_client.post("/api/v1/cart/lines", {"variant": variant.pk, "quantity": 1}, format="json")
        with django_assert_num_queries(4):
            assert len(customer_client.get("/api/v1/cart").json()["lines"]) == count
