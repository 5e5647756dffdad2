"""Product API: shape, visibility of cost, filters, ordering, errors and query counts."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.catalog import services
from apps.catalog.models import Product, ProductImage, Variant
from apps.inventory.services import stock_receive
from tests.factories.catalog import (
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
    png_bytes,
)

pytestmark = pytest.mark.django_db

PRODUCT_KEYS = {
    "id", "name", "slug", "description", "category", "brand", "price", "currency", "is_active",
    "created_at", "images", "variants",
}  # fmt: skip


def _ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_product_detail_has_the_contract_shape(api_client, settings, default_location, backroom):
    settings.SHOP_CURRENCY = "PEN"
    cheap = VariantFactory(sku="MUG-S", name="Small", price=Decimal("9.90"), cost=Decimal("4.00"))
    product = cheap.product
    VariantFactory(product=product, sku="MUG-L", name="Large", price=Decimal("12.50"))
    VariantFactory(product=product, sku="MUG-X", price=Decimal("1.00"), is_active=False)
    stock_receive(variant_id=cheap.pk, quantity=7)
    stock_receive(variant_id=cheap.pk, quantity=5, location_id=backroom.pk)  # not sellable online
    ProductImageFactory(product=product, alt="Front", position=0)

    response = api_client.get(f"/api/v1/products/{product.pk}")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == PRODUCT_KEYS
    assert body["price"] == "9.90"  # lowest ACTIVE variant price (the inactive 1.00 is ignored)
    assert body["currency"] == "PEN"
    assert body["category"] == product.category_id
    assert body["brand"] == product.brand_id
    assert body["created_at"].endswith("Z")
    assert body["variants"] == [
        {"id": cheap.pk, "sku": "MUG-S", "name": "Small", "price": "9.90", "available": 7},
        {"id": body["variants"][1]["id"], "sku": "MUG-L", "name": "Large", "price": "12.50", "available": 0},
    ]
    assert len(body["images"]) == 1
    assert body["images"][0]["alt"] == "Front"
    assert body["images"][0]["url"].startswith("http://testserver/media/products/")


def test_cost_is_hidden_from_public_and_shown_to_catalog_staff(
    api_client, customer_client, staff_client, manager_client
):
    product = VariantFactory(cost=Decimal("6.00")).product
    for client in (api_client, customer_client, staff_client):
        detail = client.get(f"/api/v1/products/{product.pk}").json()
        listed = client.get("/api/v1/products").json()["results"][0]
        assert "cost" not in detail["variants"][0]
        assert "cost" not in listed["variants"][0]
    detail = manager_client.get(f"/api/v1/products/{product.pk}").json()
    listed = manager_client.get("/api/v1/products").json()["results"][0]
    assert detail["variants"][0]["cost"] == "6.00"
    assert listed["variants"][0]["cost"] == "6.00"


def test_public_list_shows_only_active_products_but_staff_sees_all(api_client, manager_client):
    active = VariantFactory().product
    hidden = VariantFactory(product__is_active=False).product
    assert _ids(api_client.get("/api/v1/products")) == [active.pk]
    assert set(_ids(manager_client.get("/api/v1/products"))) == {active.pk, hidden.pk}


def test_category_filter_includes_sub_categories(api_client):
    food = CategoryFactory(name="Food")
    dairy = CategoryFactory(name="Dairy", parent=food)
    cheese = CategoryFactory(name="Cheese", parent=dairy)
    toys = CategoryFactory(name="Toys")
    in_food = VariantFactory(product__category=food).product
    in_cheese = VariantFactory(product__category=cheese).product
    VariantFactory(product__category=toys)

    assert set(_ids(api_client.get(f"/api/v1/products?category={food.pk}"))) == {in_food.pk, in_cheese.pk}
    assert _ids(api_client.get(f"/api/v1/products?category={dairy.pk}")) == [in_cheese.pk]


def test_brand_and_price_range_filters_use_the_lowest_active_price(api_client):
    acme = BrandFactory()
    cheap = VariantFactory(price=Decimal("5.00"), product__brand=acme).product
    VariantFactory(product=cheap, price=Decimal("50.00"))
    mid = VariantFactory(price=Decimal("20.00"), product__brand=acme).product
    VariantFactory(price=Decimal("20.00"))  # another brand

    assert set(_ids(api_client.get(f"/api/v1/products?brand={acme.pk}"))) == {cheap.pk, mid.pk}
    got = _ids(api_client.get(f"/api/v1/products?brand={acme.pk}&min_price=10&max_price=30"))
    assert got == [mid.pk]
    assert _ids(api_client.get(f"/api/v1/products?brand={acme.pk}&max_price=5")) == [cheap.pk]


def test_in_stock_filter_counts_only_sellable_unreserved_units(api_client, backroom):
    stocked = VariantFactory().product
    only_backroom = VariantFactory().product
    VariantFactory()  # never stocked
    stock_receive(variant_id=stocked.variants.get().pk, quantity=2)
    stock_receive(variant_id=only_backroom.variants.get().pk, quantity=9, location_id=backroom.pk)

    assert _ids(api_client.get("/api/v1/products?in_stock=true")) == [stocked.pk]


def test_orderings(api_client):
    b = VariantFactory(product__name="Banana", price=Decimal("3.00")).product
    a = VariantFactory(product__name="apple", price=Decimal("7.00")).product
    c = VariantFactory(product__name="Cherry", price=Decimal("1.00")).product

    assert _ids(api_client.get("/api/v1/products?ordering=price")) == [c.pk, b.pk, a.pk]
    assert _ids(api_client.get("/api/v1/products?ordering=-price")) == [a.pk, b.pk, c.pk]
    assert _ids(api_client.get("/api/v1/products?ordering=-created_at")) == [c.pk, a.pk, b.pk]
    names = [r["name"] for r in api_client.get("/api/v1/products?ordering=name").json()["results"]]
    assert names == sorted(names)


@pytest.mark.parametrize(
    ("query", "field"),
    [("ordering=cost", "ordering"), ("min_price=abc", "min_price"), ("category=x", "category")],
)
def test_bad_list_parameters_are_400(api_client, query, field):
    response = api_client.get(f"/api/v1/products?{query}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["details"]


@pytest.mark.postgres
def test_full_text_search_matches_name_brand_sku_and_description(api_client):
    category = CategoryFactory()
    brand = services.brand_create(name="Gloria")
    milk = services.product_create(
        name="Evaporated milk",
        description="Creamy and rich",
        category_id=category.pk,
        brand_id=brand.pk,
        variants=[services.VariantInput(sku="GLO-00412", price=Decimal("4.20"))],
    )
    tea = services.product_create(
        name="Green tea",
        description="Loose leaves",
        category_id=category.pk,
        variants=[services.VariantInput(sku="TEA-77", price=Decimal("8.00"))],
    )

    def search(term: str) -> list[int]:
        return _ids(api_client.get("/api/v1/products", {"search": term}))

    assert search("milk") == [milk.pk]
    assert search("gloria") == [milk.pk]  # brand
    assert search("GLO-00412") == [milk.pk]  # SKU as written
    assert search("00412") == [milk.pk]  # SKU digits
    assert search("creamy") == [milk.pk]  # description
    assert search("tea") == [tea.pk]
    assert search("coffee") == []


@pytest.mark.postgres
def test_search_ranks_name_matches_above_description_matches(api_client):
    category = CategoryFactory()
    in_description = services.product_create(
        name="Biscuits",
        description="Goes well with coffee",
        category_id=category.pk,
        variants=[services.VariantInput(sku="B-1", price=Decimal("2"))],
    )
    in_name = services.product_create(
        name="Coffee beans",
        category_id=category.pk,
        variants=[services.VariantInput(sku="C-1", price=Decimal("9"))],
    )
    assert _ids(api_client.get("/api/v1/products?search=coffee")) == [in_name.pk, in_description.pk]


@pytest.mark.postgres
def test_search_follows_renames_and_new_skus(api_client, manager_client):
    product = services.product_create(
        name="Old name",
        category_id=CategoryFactory().pk,
        variants=[services.VariantInput(sku="AAA-1", price=Decimal("2"))],
    )
    body = {"name": "Fresh bread", "variants": [{"sku": "BRD-9", "price": "3.00"}]}
    assert manager_client.patch(f"/api/v1/products/{product.pk}", body, format="json").status_code == 200
    assert _ids(api_client.get("/api/v1/products?search=bread")) == [product.pk]
    assert _ids(api_client.get("/api/v1/products?search=BRD-9")) == [product.pk]
    assert _ids(api_client.get("/api/v1/products?search=old")) == []


def _make_products(n: int) -> None:
    for _ in range(n):
        product = ProductFactory()
        VariantFactory(product=product)
        VariantFactory(product=product, price=Decimal("3.00"))
        ProductImageFactory(product=product)


@pytest.mark.parametrize("rows", [1, 15])
def test_public_list_query_count_is_constant(api_client, django_assert_num_queries, rows):
    _make_products(rows)
    # count, products (with the price subquery), variants (with availability), images
    with django_assert_num_queries(4):
        response = api_client.get("/api/v1/products?page_size=20")
    assert response.json()["count"] == rows


@pytest.mark.parametrize("rows", [1, 15])
def test_staff_list_query_count_is_constant(manager_client, django_assert_num_queries, rows):
    _make_products(rows)
    category_id = Product.objects.first().category_id
    # + user (JWT), user permissions, group permissions; category subtree CTE for the filter
    with django_assert_num_queries(8):
        response = manager_client.get(f"/api/v1/products?category={category_id}")
    assert response.status_code == 200


def test_detail_query_count(api_client, django_assert_num_queries):
    _make_products(1)
    product = Product.objects.get()
    with django_assert_num_queries(3):
        assert api_client.get(f"/api/v1/products/{product.pk}").status_code == 200


def test_unknown_product_is_404(api_client, manager_client):
    for client in (api_client, manager_client):
        response = client.get("/api/v1/products/999999")
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert manager_client.patch("/api/v1/products/999999", {"name": "x"}, format="json").status_code == 404
    assert manager_client.delete("/api/v1/products/999999").status_code == 404
    upload = SimpleUploadedFile("a.png", png_bytes(), content_type="image/png")
    response = manager_client.post("/api/v1/products/999999/images", {"image": upload}, format="multipart")
    assert response.status_code == 404


def test_create_product_returns_the_product(manager_client):
    category = CategoryFactory()
    brand = BrandFactory()
    body = {
        "name": "Café Orgánico",
        "description": "Single origin",
        "category": category.pk,
        "brand": brand.pk,
        "variants": [
            {"sku": "CAF-250", "name": "250 g", "price": "18.90", "cost": "11.00"},
            {"sku": "CAF-500", "name": "500 g", "price": "34.00"},
        ],
    }
    response = manager_client.post("/api/v1/products", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["slug"] == "cafe-organico"
    assert data["price"] == "18.90"
    assert [(v["sku"], v["cost"], v["available"]) for v in data["variants"]] == [
        ("CAF-250", "11.00", 0),
        ("CAF-500", None, 0),
    ]
    assert Variant.objects.filter(product_id=data["id"]).count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"category": 999999}, "category"),
        ({"brand": 999999}, "brand"),
        ({"variants": []}, "variants"),
        ({"variants": [{"sku": "N-1", "price": "-1.00"}]}, "variants"),
        ({"variants": [{"sku": "TAKEN-1", "price": "1.00"}]}, "variants"),
        ({"variants": [{"sku": "D-1", "price": "1"}, {"sku": "D-1", "price": "2"}]}, "variants"),
        ({"name": ""}, "name"),
    ],
)
def test_create_product_rejects_bad_input_with_field_details(manager_client, change, field):
    VariantFactory(sku="TAKEN-1")
    category = CategoryFactory()
    body = {"name": "Rice", "category": category.pk, "variants": [{"sku": "RICE-1", "price": "2.00"}]}
    body.update(change)
    before = Product.objects.count()
    response = manager_client.post("/api/v1/products", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"]
    assert Product.objects.count() == before


def test_duplicate_sku_details_point_at_the_variant(manager_client):
    VariantFactory(sku="TAKEN-1")
    body = {
        "name": "Rice",
        "category": CategoryFactory().pk,
        "variants": [{"sku": "OK-1", "price": "1"}, {"sku": "TAKEN-1", "price": "1"}],
    }
    details = manager_client.post("/api/v1/products", body, format="json").json()["error"]["details"]
    assert details == {"variants": [{}, {"sku": ["A variant with SKU TAKEN-1 already exists."]}]}


def test_patch_updates_fields_and_upserts_variants(manager_client):
    product = VariantFactory(sku="P-1", price=Decimal("5.00")).product
    other = CategoryFactory()
    body = {
        "name": "Renamed",
        "category": other.pk,
        "brand": None,
        "is_active": False,
        "variants": [{"sku": "P-1", "price": "4.00"}, {"sku": "P-2", "price": "6.00"}],
    }
    response = manager_client.patch(f"/api/v1/products/{product.pk}", body, format="json")
    assert response.status_code == 200
    data = response.json()
    assert (data["name"], data["category"], data["brand"], data["is_active"]) == (
        "Renamed",
        other.pk,
        None,
        False,
    )
    assert data["slug"] == product.slug  # stable URLs
    assert [(v["sku"], v["price"]) for v in data["variants"]] == [("P-1", "4.00"), ("P-2", "6.00")]


def test_patch_with_unknown_category_changes_nothing(manager_client):
    product = ProductFactory(name="Keep")
    response = manager_client.patch(
        f"/api/v1/products/{product.pk}", {"name": "Changed", "category": 999999}, format="json"
    )
    assert response.status_code == 400
    product.refresh_from_db()
    assert product.name == "Keep"


def test_delete_without_history_removes_the_product(manager_client):
    product = VariantFactory().product
    assert manager_client.delete(f"/api/v1/products/{product.pk}").status_code == 204
    assert not Product.objects.filter(pk=product.pk).exists()


def test_delete_with_stock_history_deactivates_instead(manager_client, api_client):
    variant = VariantFactory()
    stock_receive(variant_id=variant.pk, quantity=1)
    assert manager_client.delete(f"/api/v1/products/{variant.product_id}").status_code == 204
    variant.product.refresh_from_db()
    assert variant.product.is_active is False
    assert api_client.get(f"/api/v1/products/{variant.product_id}").status_code == 404


def test_image_upload_stores_a_valid_image(manager_client):
    product = ProductFactory()
    upload = SimpleUploadedFile("front.png", png_bytes(), content_type="image/png")
    response = manager_client.post(
        f"/api/v1/products/{product.pk}/images", {"image": upload, "alt": "Front"}, format="multipart"
    )
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"id", "url", "alt", "position"}
    assert (body["alt"], body["position"]) == ("Front", 0)
    image = ProductImage.objects.get(pk=body["id"])
    assert image.image.storage.exists(image.image.name)


@pytest.mark.parametrize(
    "payload",
    [b"not an image at all", b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, b"%PDF-1.4 fake pdf"],
    ids=["text", "truncated-png", "pdf"],
)
def test_image_upload_rejects_non_images(manager_client, payload):
    product = ProductFactory()
    upload = SimpleUploadedFile("evil.png", payload, content_type="image/png")
    response = manager_client.post(
        f"/api/v1/products/{product.pk}/images", {"image": upload}, format="multipart"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "image" in response.json()["error"]["details"]
    assert not ProductImage.objects.exists()


def test_categories_and_brands(manager_client, api_client):
    parent = manager_client.post("/api/v1/categories", {"name": "Bebidas"}, format="json").json()
    child = manager_client.post(
        "/api/v1/categories", {"name": "Jugos", "parent": parent["id"]}, format="json"
    ).json()
    assert child == {"id": child["id"], "name": "Jugos", "slug": "jugos", "parent": parent["id"]}
    again = manager_client.post("/api/v1/categories", {"name": "Jugos"}, format="json").json()
    assert again["slug"] == "jugos-2"
    bad = manager_client.post("/api/v1/categories", {"name": "X", "parent": 999999}, format="json")
    assert bad.status_code == 400 and "parent" in bad.json()["error"]["details"]

    brand = manager_client.post("/api/v1/brands", {"name": "Inca Kola"}, format="json").json()
    assert brand == {"id": brand["id"], "name": "Inca Kola", "slug": "inca-kola"}
    dup = manager_client.post("/api/v1/brands", {"name": "inca kola"}, format="json")
    assert dup.status_code == 400 and "name" in dup.json()["error"]["details"]

    names = [c["name"] for c in api_client.get("/api/v1/categories").json()["results"]]
    assert names == ["Bebidas", "Jugos", "Jugos"]
    assert api_client.get("/api/v1/brands").json()["count"] == 1
