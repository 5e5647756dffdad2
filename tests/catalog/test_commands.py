"""`manage.py catalog_reindex` (catalog_import is covered in test_import.py)."""

import pytest
from django.core.management import call_command

from apps.catalog.models import Product
from tests.factories.catalog import VariantFactory

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
def test_reindex_builds_every_missing_search_vector(capsys, api_client):
    products = [VariantFactory(product__name=f"Loaded {i}", sku=f"LD-{i}").product for i in range(3)]
    assert Product.objects.filter(search_vector__isnull=True).count() == 3  # factories skip the services

    call_command("catalog_reindex", "--no-progress", "--batch-size", "2")

    assert "Reindexed 3 products." in capsys.readouterr().out
    assert Product.objects.filter(search_vector__isnull=True).count() == 0
    found = [r["id"] for r in api_client.get("/api/v1/products?search=LD-1").json()["results"]]
    assert found == [products[1].pk]


def test_reindex_is_a_no_op_off_postgresql(capsys, is_postgres):
    VariantFactory()
    call_command("catalog_reindex", "--no-progress")
    out = capsys.readouterr().out
    assert ("Reindexed 1 products." in out) if is_postgres else ("nothing to index" in out)
