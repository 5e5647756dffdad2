"""Catalog services: the one entry point for writes (API, admin, import, commands)."""

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from apps.catalog import selectors, services
from apps.catalog.models import Category, Product, ProductImage, Variant
from apps.catalog.services import VariantInput
from apps.inventory.services import stock_receive
from shop.exceptions import NotFound, ValidationFailed
from tests.factories.catalog import BrandFactory, CategoryFactory, ProductFactory, VariantFactory, png_bytes

pytestmark = pytest.mark.django_db


def _create(name: str = "Queso fresco", skus: tuple[str, ...] = ("Q-1",), **kwargs) -> Product:
    kwargs.setdefault("category_id", CategoryFactory().pk)
    return services.product_create(
        name=name, variants=[VariantInput(sku=s, price=Decimal("10.00")) for s in skus], **kwargs
    )


def test_product_create_generates_unique_slugs_from_names():
    first = _create("Queso Fresco", ("Q-1",))
    second = _create("Queso fresco", ("Q-2",))
    third = _create("queso   FRESCO!", ("Q-3",))
    assert (first.slug, second.slug, third.slug) == ("queso-fresco", "queso-fresco-2", "queso-fresco-3")


def test_product_create_refuses_without_variants_and_writes_nothing():
    with pytest.raises(ValidationFailed) as exc:
        _create(skus=())
    assert exc.value.details == {"variants": ["A product needs at least one variant."]}
    assert not Product.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "details"),
    [
        ({"category_id": 987654}, {"category": ["Unknown category 987654."]}),
        ({"brand_id": 987654}, {"brand": ["Unknown brand 987654."]}),
    ],
)
def test_product_create_refuses_unknown_references(kwargs, details):
    with pytest.raises(ValidationFailed) as exc:
        _create(**kwargs)
    assert exc.value.details == details
    assert not Product.objects.exists()


def test_product_create_reports_every_bad_variant_by_position():
    VariantFactory(sku="USED")
    variants = [
        VariantInput(sku="OK", price=Decimal("1")),
        VariantInput(sku="USED", price=Decimal("1")),
        VariantInput(sku="OK", price=Decimal("-1")),
        VariantInput(sku=" ", price=Decimal("1"), cost=Decimal("-2")),
    ]
    with pytest.raises(ValidationFailed) as exc:
        services.product_create(name="X", category_id=CategoryFactory().pk, variants=variants)
    assert exc.value.details == {
        "variants": [
            {},
            {"sku": ["A variant with SKU USED already exists."]},
            {"sku": ["SKU OK appears twice."], "price": ["Ensure this value is greater than or equal to 0."]},
            {
                "sku": ["This field may not be blank."],
                "cost": ["Ensure this value is greater than or equal to 0."],
            },
        ]
    }
    assert Product.objects.count() == 1  # only the factory's


def test_product_update_upserts_variants_by_sku_and_keeps_the_slug():
    product = _create("Leche", ("L-1",))
    services.product_update(
        product=product,
        name="Leche entera",
        variants=[
            VariantInput(sku="L-1", price=Decimal("4.00")),
            VariantInput(sku="L-2", price=Decimal("7.00")),
        ],
    )
    product.refresh_from_db()
    assert (product.name, product.slug) == ("Leche entera", "leche")
    assert list(product.variants.order_by("sku").values_list("sku", "price")) == [
        ("L-1", Decimal("4.00")),
        ("L-2", Decimal("7.00")),
    ]


def test_product_update_refuses_a_sku_of_another_product():
    VariantFactory(sku="THEIRS")
    product = _create("Mine", ("MINE",))
    with pytest.raises(ValidationFailed):
        services.product_update(product=product, variants=[VariantInput(sku="THEIRS", price=Decimal("1"))])
    assert list(product.variants.values_list("sku", flat=True)) == ["MINE"]


def test_product_delete_removes_a_product_without_history():
    product = _create()
    assert services.product_delete(product=product) is True
    assert not Product.objects.filter(pk=product.pk).exists()
    assert not Variant.objects.filter(sku="Q-1").exists()


def test_product_delete_deactivates_a_product_with_stock_history():
    product = _create()
    stock_receive(variant_id=product.variants.get().pk, quantity=3)
    assert services.product_delete(product=product) is False
    product.refresh_from_db()
    assert product.is_active is False
    assert product.variants.count() == 1


def test_activate_and_deactivate_count_only_changes():
    a, b = ProductFactory(is_active=True), ProductFactory(is_active=False)
    assert services.product_deactivate(product_ids=[a.pk, b.pk]) == 1
    assert services.product_activate(product_ids=[a.pk, b.pk]) == 2
    assert set(Product.objects.values_list("is_active", flat=True)) == {True}


def test_variant_update_validates_prices():
    variant = VariantFactory(price=Decimal("5"))
    with pytest.raises(ValidationFailed):
        services.variant_update(variant=variant, price=Decimal("-1"))
    with pytest.raises(ValidationFailed):
        services.variant_update(variant=variant, sku="NEW")
    services.variant_update(variant=variant, price=Decimal("6"), is_active=False)
    variant.refresh_from_db()
    assert (variant.price, variant.is_active) == (Decimal("6.00"), False)


def test_category_tree_and_subtree():
    root = services.category_create(name="Food")
    dairy = services.category_create(name="Dairy", parent_id=root.pk)
    cheese = services.category_create(name="Cheese", parent_id=dairy.pk)
    other = services.category_create(name="Toys")
    assert sorted(selectors.category_subtree_ids(category_id=root.pk)) == sorted(
        [root.pk, dairy.pk, cheese.pk]
    )
    assert selectors.category_subtree_ids(category_id=other.pk) == [other.pk]


def test_category_cannot_move_under_itself_or_a_descendant():
    root = services.category_create(name="Root")
    child = services.category_create(name="Child", parent_id=root.pk)
    for target in (root.pk, child.pk):
        with pytest.raises(ValidationFailed):
            services.category_update(category=root, parent_id=target)
    root.refresh_from_db()
    assert root.parent_id is None
    services.category_update(category=child, parent_id=None, name="Top")
    assert Category.objects.get(pk=child.pk).parent_id is None


def test_brand_names_are_unique_case_insensitively():
    services.brand_create(name="Gloria")
    with pytest.raises(ValidationFailed):
        services.brand_create(name="GLORIA")
    assert services.brand_get_or_create(name="gloria").name == "Gloria"


def test_image_add_appends_positions_and_rejects_non_images():
    product = ProductFactory()
    first = services.product_image_add(product=product, image=SimpleUploadedFile("a.png", png_bytes()))
    second = services.product_image_add(
        product=product, image=SimpleUploadedFile("b.png", png_bytes()), alt="B"
    )
    assert (first.position, second.position) == (0, 1)
    with pytest.raises(ValidationFailed) as exc:
        services.product_image_add(product=product, image=SimpleUploadedFile("c.png", b"GIF89a-not-really"))
    assert "image" in exc.value.details
    assert ProductImage.objects.filter(product=product).count() == 2


def test_image_add_rejects_oversized_uploads(settings):
    settings.CATALOG_IMAGE_MAX_BYTES = 10
    with pytest.raises(ValidationFailed):
        services.product_image_add(product=ProductFactory(), image=SimpleUploadedFile("a.png", png_bytes()))
    assert not ProductImage.objects.exists()


def test_product_get_hides_inactive_products_unless_asked():
    product = VariantFactory(product__is_active=False).product
    with pytest.raises(NotFound):
        selectors.product_get(product_id=product.pk)
    assert selectors.product_get(product_id=product.pk, include_inactive=True).pk == product.pk


def test_price_is_null_when_no_variant_is_active():
    product = VariantFactory(is_active=False).product
    assert selectors.product_get(product_id=product.pk).price is None


@pytest.mark.postgres
def test_search_vector_weights_name_brand_and_sku_above_description():
    brand = BrandFactory(name="Laive")
    product = _create("Mantequilla", ("MAN-200",), brand_id=brand.pk, description="con sal")
    with connection.cursor() as cursor:
        cursor.execute("SELECT search_vector::text FROM catalog_product WHERE id = %s", [product.pk])
        vector = cursor.fetchone()[0]
    # name, brand and the SKU (as written and split on punctuation) weigh A; the description B
    assert vector == "'-200':4A '200':6A 'con':7B 'laive':2A 'man':3A,5A 'mantequilla':1A 'sal':8B"


@pytest.mark.postgres
def test_reindex_all_rebuilds_vectors_of_bulk_loaded_rows():
    product = VariantFactory(product__name="Bulk loaded", sku="BULK-1").product  # factories skip the service
    assert Product.objects.filter(search_vector__isnull=False, pk=product.pk).count() == 0
    assert services.product_search_reindex_all(batch_size=1) >= 1
    assert list(selectors.product_list(search="bulk").values_list("pk", flat=True)) == [product.pk]
