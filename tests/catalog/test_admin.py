"""Every catalog admin page opens with a pinned query count that does not grow with rows."""

from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from apps.catalog.models import Product
from apps.inventory.services import stock_receive
from tests.factories.accounts import SuperuserFactory
from tests.factories.catalog import (
    BrandFactory,
    CategoryFactory,
    ProductFactory,
    ProductImageFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web(client):
    client.force_login(SuperuserFactory())
    return client


@pytest.fixture(autouse=True)
def _cold_content_type_cache():
    # Counts are pinned as for a fresh process: the content-type cache starts empty.
    ContentType.objects.clear_cache()


def _catalog(rows: int) -> None:
    parent = CategoryFactory()
    for i in range(rows):
        product = ProductFactory(category=CategoryFactory(parent=parent))
        VariantFactory(product=product, price=Decimal("5.00"))
        VariantFactory(product=product, price=Decimal("7.00"))
        ProductImageFactory(product=product)
        if i % 2:
            stock_receive(variant_id=product.variants.first().pk, quantity=3)


# (url name, query string, pinned queries): session, user, then the page's own queries.
CHANGELISTS = [
    ("admin:catalog_product_changelist", "", 5),
    ("admin:catalog_product_changelist", "?in_stock=yes", 5),
    ("admin:catalog_product_changelist", "?in_stock=no&is_active__exact=1", 5),
    ("admin:catalog_product_changelist", "?brand=brand", 5),
    ("admin:catalog_product_changelist", "?q=SKU", 6),  # + the SKU prefix lookup
    ("admin:catalog_variant_changelist", "", 4),
    ("admin:catalog_category_changelist", "", 4),
    ("admin:catalog_brand_changelist", "", 4),
]


@pytest.mark.parametrize(("name", "query", "queries"), CHANGELISTS)
@pytest.mark.parametrize("rows", [2, 12])
def test_changelists_open_with_constant_queries(
    admin_web, django_assert_num_queries, name, query, queries, rows
):
    _catalog(rows)
    url = reverse(name) + query
    with django_assert_num_queries(queries):
        response = admin_web.get(url)
    assert response.status_code == 200


@pytest.mark.parametrize("variants", [1, 8])
def test_product_change_form_opens_with_constant_queries(admin_web, django_assert_num_queries, variants):
    product = ProductFactory()
    for _ in range(variants):
        VariantFactory(product=product)
        ProductImageFactory(product=product)
    with django_assert_num_queries(8):
        response = admin_web.get(reverse("admin:catalog_product_change", args=[product.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "factory", "queries"),
    [
        ("admin:catalog_category_change", lambda: CategoryFactory(parent=CategoryFactory()), 5),
        ("admin:catalog_brand_change", BrandFactory, 4),
        ("admin:catalog_variant_change", VariantFactory, 5),
    ],
)
def test_change_forms_open_with_pinned_queries(admin_web, django_assert_num_queries, name, factory, queries):
    obj = factory()
    with django_assert_num_queries(queries):
        response = admin_web.get(reverse(name, args=[obj.pk]))
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("name", "queries"),
    [
        ("admin:catalog_product_add", 3),
        ("admin:catalog_category_add", 3),
        ("admin:catalog_brand_add", 3),
        ("admin:catalog_variant_add", 3),
        ("admin:catalog_product_import", 2),
        ("admin:catalog_product_export", 3),
        ("admin:catalog_variant_import", 2),
    ],
)
def test_add_and_import_pages_open(admin_web, django_assert_num_queries, name, queries):
    with django_assert_num_queries(queries):
        response = admin_web.get(reverse(name))
    assert response.status_code == 200


def test_search_finds_products_by_name_and_by_sku(admin_web):
    by_name = VariantFactory(product__name="Yellow banana", sku="FRU-1").product
    by_sku = VariantFactory(product__name="Apple", sku="ZZZ-42").product
    url = reverse("admin:catalog_product_changelist")
    assert list(admin_web.get(url + "?q=banana").context["cl"].result_list) == [by_name]
    assert list(admin_web.get(url + "?q=ZZZ-42").context["cl"].result_list) == [by_sku]


def test_category_filter_includes_sub_categories_and_brand_filter_matches_names(admin_web):
    food = CategoryFactory(name="Food")
    dairy = CategoryFactory(name="Dairy", parent=food)
    in_dairy = VariantFactory(product__category=dairy, product__brand=BrandFactory(name="Gloria")).product
    in_food = VariantFactory(product__category=food).product
    VariantFactory(product__category=CategoryFactory(name="Toys"))
    url = reverse("admin:catalog_product_changelist")
    response = admin_web.get(url + f"?category={food.pk}")
    assert set(response.context["cl"].result_list) == {in_dairy, in_food}
    assert b"Dairy" in response.content  # the selected category's children are offered next
    assert list(admin_web.get(url + f"?category={dairy.pk}").context["cl"].result_list) == [in_dairy]
    assert list(admin_web.get(url + "?brand=glo").context["cl"].result_list) == [in_dairy]


def test_in_stock_filter(admin_web):
    stocked = VariantFactory().product
    VariantFactory()
    stock_receive(variant_id=stocked.variants.get().pk, quantity=1)
    url = reverse("admin:catalog_product_changelist")
    assert list(admin_web.get(url + "?in_stock=yes").context["cl"].result_list) == [stocked]
    assert stocked not in admin_web.get(url + "?in_stock=no").context["cl"].result_list


def test_deactivate_and_activate_actions(admin_web):
    products = [VariantFactory().product for _ in range(3)]
    url = reverse("admin:catalog_product_changelist")
    pks = [p.pk for p in products[:2]]
    response = admin_web.post(url, {"action": "deactivate", "_selected_action": pks})
    assert response.status_code == 302
    assert set(Product.objects.filter(is_active=False).values_list("pk", flat=True)) == set(pks)
    admin_web.post(url, {"action": "activate", "_selected_action": pks[:1]})
    assert set(Product.objects.filter(is_active=False).values_list("pk", flat=True)) == {pks[1]}


def test_adding_a_product_in_the_admin_generates_the_slug(admin_web):
    category = CategoryFactory()
    data = {
        "name": "Pan de molde",
        "description": "",
        "category": category.pk,
        "brand": "",
        "is_active": "on",
        "variants-TOTAL_FORMS": "1",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "variants-0-sku": "PAN-1",
        "variants-0-name": "500 g",
        "variants-0-price": "6.50",
        "variants-0-attributes": "{}",
        "variants-0-is_active": "on",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    response = admin_web.post(reverse("admin:catalog_product_add"), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    product = Product.objects.get(name="Pan de molde")
    assert product.slug == "pan-de-molde"
    assert list(product.variants.values_list("sku", flat=True)) == ["PAN-1"]


def test_admin_refuses_a_product_without_variants(admin_web):
    data = {
        "name": "Empty",
        "category": CategoryFactory().pk,
        "variants-TOTAL_FORMS": "0",
        "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "1",
        "variants-MAX_NUM_FORMS": "1000",
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    response = admin_web.post(reverse("admin:catalog_product_add"), data)
    assert response.status_code == 200
    assert not Product.objects.filter(name="Empty").exists()


def test_category_cannot_be_moved_under_its_descendant(admin_web):
    root = CategoryFactory(name="Root")
    child = CategoryFactory(name="Child", parent=root)
    response = admin_web.post(
        reverse("admin:catalog_category_change", args=[root.pk]), {"name": "Root", "parent": child.pk}
    )
    assert response.status_code == 200
    root.refresh_from_db()
    assert root.parent_id is None
