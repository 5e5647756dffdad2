"""Public catalog reads are cached per catalog version; every catalog write invalidates them."""

from decimal import Decimal

import pytest

from apps.catalog import services
from apps.inventory.services import stock_receive
from tests.factories.catalog import VariantFactory

# Invalidation happens on commit, hence real transactions; serialized_rollback keeps the rows created by
# migrations (default location, role groups) for these tests and the ones after them.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def test_a_repeated_public_list_is_served_without_queries(api_client, django_assert_num_queries):
    VariantFactory()
    first = api_client.get("/api/v1/products?page_size=20").json()
    with django_assert_num_queries(0):
        again = api_client.get("/api/v1/products?page_size=20").json()
    assert again == first


def test_a_catalog_write_invalidates_cached_pages(api_client):
    variant = VariantFactory(price=Decimal("5.00"))
    assert api_client.get(f"/api/v1/products/{variant.product_id}").json()["price"] == "5.00"
    assert api_client.get("/api/v1/products").json()["results"][0]["price"] == "5.00"

    services.variant_update(variant=variant, price=Decimal("4.00"))

    assert api_client.get(f"/api/v1/products/{variant.product_id}").json()["price"] == "4.00"
    assert api_client.get("/api/v1/products").json()["results"][0]["price"] == "4.00"


def test_deactivation_hides_a_cached_product_at_once(api_client):
    product = VariantFactory().product
    assert api_client.get(f"/api/v1/products/{product.pk}").status_code == 200
    services.product_deactivate(product_ids=[product.pk])
    assert api_client.get(f"/api/v1/products/{product.pk}").status_code == 404
    assert api_client.get("/api/v1/products").json()["count"] == 0


def test_stock_changes_show_after_the_ttl_and_staff_always_see_fresh_stock(
    api_client, manager_client, settings
):
    variant = VariantFactory()
    assert api_client.get("/api/v1/products").json()["results"][0]["variants"][0]["available"] == 0
    stock_receive(variant_id=variant.pk, quantity=4)
    # Stock movements do not invalidate: the storefront may lag by up to the TTL …
    assert api_client.get("/api/v1/products").json()["results"][0]["variants"][0]["available"] == 0
    # … the back office never does.
    assert manager_client.get("/api/v1/products").json()["results"][0]["variants"][0]["available"] == 4
    settings.CATALOG_PUBLIC_CACHE_SECONDS = 0
    assert api_client.get("/api/v1/products").json()["results"][0]["variants"][0]["available"] == 4
