"""Permission matrix: every catalog operation × anonymous, customer, staff without role, catalog manager."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from apps.catalog.models import Brand, Category, Product, ProductImage
from tests.factories.catalog import CategoryFactory, ProductFactory, VariantFactory, png_bytes

pytestmark = pytest.mark.django_db

WHO = ["anonymous", "customer", "staff", "manager"]


@pytest.fixture
def client_for(api_client, customer_client, staff_client, manager_client):
    return {
        "anonymous": api_client,
        "customer": customer_client,
        "staff": staff_client,
        "manager": manager_client,
    }


@pytest.fixture
def product(db) -> Product:
    return VariantFactory(product__name="Blue mug").product


def _count(model) -> int:
    return model.objects.count()


@pytest.mark.parametrize(("who", "expected"), list(zip(WHO, [200, 200, 200, 200], strict=True)))
@pytest.mark.parametrize("path", ["/api/v1/categories", "/api/v1/brands", "/api/v1/products"])
def test_public_lists_are_open_to_everyone(client_for, product, who, expected, path):
    assert client_for[who].get(path).status_code == expected


@pytest.mark.parametrize(("who", "expected"), list(zip(WHO, [200, 200, 200, 200], strict=True)))
def test_product_detail_is_open_to_everyone(client_for, product, who, expected):
    assert client_for[who].get(f"/api/v1/products/{product.pk}").status_code == expected


@pytest.mark.parametrize(("who", "expected"), list(zip(WHO, [404, 404, 404, 200], strict=True)))
def test_inactive_product_is_visible_only_to_catalog_staff(client_for, who, expected):
    product = VariantFactory(product__is_active=False).product
    assert client_for[who].get(f"/api/v1/products/{product.pk}").status_code == expected


@pytest.mark.parametrize(("who", "expected"), list(zip(WHO, [401, 403, 403, 201], strict=True)))
def test_category_create_needs_catalog_role(client_for, who, expected):
    before = _count(Category)
    response = client_for[who].post("/api/v1/categories", {"name": "Dairy"}, format="json")
    assert response.status_code == expected
    assert _count(Category) == before + (1 if expected == 201 else 0)


@pytest.mark.parametrize(("who", "expected"), list(zip(WHO, [401, 403, 403, 201], strict=True)))
def test_brand_create_needs_catalog_role(client_for, who, expected):
    response = client_for[who].post("/api/v1/brands", {"name": "Gloria"}, format="json")
    assert response.status_code == expected
    assert Brand.objects.filter(name="Gloria").exists() is (expected == 201)


@pytest.mark.parametrize(("who", "expected"), list(zip(WHO, [401, 403, 403, 201], strict=True)))
def test_product_create_needs_catalog_role(client_for, who, expected):
    category = CategoryFactory()
    body = {"name": "Oat milk", "category": category.pk, "variants": [{"sku": "OAT-1", "price": "4.50"}]}
    response = client_for[who].post("/api/v1/products", body, format="json")
    assert response.status_code == expected
    assert Product.objects.filter(name="Oat milk").exists() is (expected == 201)


@pytest.mark.parametrize(("who", "expected"), list(zip(WHO, [401, 403, 403, 200], strict=True)))
def test_product_patch_needs_catalog_role(client_for, product, who, expected):
    response = client_for[who].patch(f"/api/v1/products/{product.pk}", {"name": "Red mug"}, format="json")
    assert response.status_code == expected
    product.refresh_from_db()
    assert product.name == ("Red mug" if expected == 200 else "Blue mug")


@pytest.mark.parametrize(("who", "expected"), list(zip(WHO, [401, 403, 403, 204], strict=True)))
def test_product_delete_needs_catalog_role(client_for, product, who, expected):
    response = client_for[who].delete(f"/api/v1/products/{product.pk}")
    assert response.status_code == expected
    assert Product.objects.filter(pk=product.pk).exists() is (expected != 204)


@pytest.mark.parametrize(("who", "expected"), list(zip(WHO, [401, 403, 403, 201], strict=True)))
def test_product_image_upload_needs_catalog_role(client_for, product, who, expected):
    upload = SimpleUploadedFile("mug.png", png_bytes(), content_type="image/png")
    response = client_for[who].post(
        f"/api/v1/products/{product.pk}/images", {"image": upload, "alt": "Mug"}, format="multipart"
    )
    assert response.status_code == expected
    assert ProductImage.objects.filter(product=product).count() == (1 if expected == 201 else 0)


def test_superuser_can_write_without_role(admin_client_api):
    category = CategoryFactory()
    body = {"name": "Tea", "category": category.pk, "variants": [{"sku": "TEA-1", "price": "3.00"}]}
    assert admin_client_api.post("/api/v1/products", body, format="json").status_code == 201


def test_inventory_clerk_cannot_change_the_catalog(role_client):
    client: APIClient = role_client("inventory_clerk")
    product = ProductFactory()
    assert client.patch(f"/api/v1/products/{product.pk}", {"name": "X"}, format="json").status_code == 403
    assert client.post("/api/v1/brands", {"name": "X"}, format="json").status_code == 403
