"""CSV import/export: the admin (dry run, confirm, row errors) and `manage.py catalog_import`."""

import csv
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse

from apps.catalog.models import Brand, Category, Product, Variant
from apps.catalog.services.importing import CATALOG_COLUMNS, catalog_import, stock_import
from apps.inventory.models import StockLevel, StockMovement
from apps.inventory.services import stock_receive
from tests.factories.accounts import StaffFactory, SuperuserFactory
from tests.factories.catalog import CategoryFactory, VariantFactory

pytestmark = pytest.mark.django_db

HEADER = "sku,product,category,brand,variant_name,price,cost,barcode,active\n"
GOOD = (
    "TEE-S,Basic tee,apparel,Acme,S,19.90,8.00,7750000000011,yes\n"
    "TEE-M,Basic tee,apparel,Acme,M,19.90,8.00,,yes\n"
    "MUG-1,Mug,Kitchen,,,9.50,,,no\n"
)
BAD = (
    "BAD-1,Broken,apparel,,,-3,,,yes\n"  # negative price
    ",No sku,apparel,,,1.00,,,yes\n"  # missing sku
    "BAD-3,Broken,apparel,,,abc,,,maybe\n"  # price and active unreadable
)


def _rows(text: str) -> list[dict]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def apparel():
    return CategoryFactory(name="Apparel", slug="apparel")


def test_import_creates_products_grouped_by_name_with_their_variants(apparel):
    report = catalog_import(rows=_rows(HEADER + GOOD))

    assert (report.created, report.updated, report.errors) == (3, 0, [])
    tee = Product.objects.get(name="Basic tee")
    assert tee.category == apparel
    assert tee.brand.name == "Acme"
    assert sorted(tee.variants.values_list("sku", "price", "barcode")) == [
        ("TEE-M", Decimal("19.90"), ""),
        ("TEE-S", Decimal("19.90"), "7750000000011"),
    ]
    mug = Variant.objects.get(sku="MUG-1")
    assert mug.is_active is False
    assert mug.product.category.name == "Kitchen"  # unknown category created by name
    assert mug.product.brand is None


def test_import_updates_existing_skus(apparel):
    variant = VariantFactory(sku="TEE-S", price=Decimal("1.00"), product__name="Old")
    report = catalog_import(rows=_rows(HEADER + "TEE-S,Basic tee,apparel,Acme,S,21.00,9.00,,yes\n"))
    assert (report.created, report.updated) == (0, 1)
    variant.refresh_from_db()
    assert (variant.price, variant.cost, variant.product.name) == (
        Decimal("21.00"),
        Decimal("9.00"),
        "Basic tee",
    )
    assert Product.objects.count() == 1


def test_dry_run_reports_but_writes_nothing(apparel):
    report = catalog_import(rows=_rows(HEADER + GOOD + BAD), dry_run=True)
    assert report.created == 3
    assert [e.line for e in report.errors] == [5, 6, 7]
    assert Variant.objects.count() == 0 and Product.objects.count() == 0 and Brand.objects.count() == 0


def test_bad_rows_are_reported_by_line_and_column_and_good_rows_import(apparel):
    report = catalog_import(rows=_rows(HEADER + GOOD + BAD))
    errors = {e.line: e.errors for e in report.errors}
    assert errors == {
        5: {"price": ["Ensure this value is greater than or equal to 0."]},
        6: {"sku": ["This field is required."]},
        7: {"price": ["'abc' is not a number."], "active": ["'maybe' is not a yes/no value."]},
    }
    assert set(Variant.objects.values_list("sku", flat=True)) == {"TEE-S", "TEE-M", "MUG-1"}


def test_batches_keep_grouping_products_across_batch_boundaries(apparel):
    rows = "".join(f"V-{i},Same product,apparel,,,{i}.00,,,yes\n" for i in range(1, 8))
    report = catalog_import(rows=_rows(HEADER + rows), batch_size=3)
    assert report.created == 7
    assert Product.objects.count() == 1
    assert Product.objects.get().variants.count() == 7


def test_duplicate_product_names_get_distinct_slugs():
    VariantFactory(product__name="Rice", product__slug="rice")
    report = catalog_import(rows=_rows(HEADER + "RICE-9,Rice,Grains,,,3.00,,,yes\n"))
    assert report.errors == []
    assert Variant.objects.get(sku="RICE-9").product.slug == "rice-rice-9"


@pytest.mark.postgres
def test_imported_products_are_searchable(apparel, api_client):
    catalog_import(rows=_rows(HEADER + GOOD))
    results = api_client.get("/api/v1/products?search=TEE-M").json()["results"]
    assert [r["name"] for r in results] == ["Basic tee"]


def test_stock_import_goes_through_the_ledger(default_location):
    fresh = VariantFactory(sku="A-1")
    counted = VariantFactory(sku="B-1")
    stock_receive(variant_id=counted.pk, quantity=10)
    rows = _rows(
        f"sku,location,on_hand\nA-1,{default_location.code},5\nB-1,,7\nZZZ,,1\nA-1,NOPE,1\nB-1,,-2\n"
    )

    report = stock_import(rows=rows)

    assert (report.created, report.updated) == (1, 1)
    assert {e.line: set(e.errors) for e in report.errors} == {4: {"sku"}, 5: {"location"}, 6: {"on_hand"}}
    assert StockLevel.objects.get(variant=fresh).on_hand == 5
    assert StockLevel.objects.get(variant=counted).on_hand == 7
    kinds = list(StockMovement.objects.order_by("id").values_list("variant__sku", "kind", "quantity"))
    assert kinds == [("B-1", "receive", 10), ("A-1", "receive", 5), ("B-1", "adjust", -3)]


def test_stock_import_cannot_count_below_reserved(default_location):
    from apps.inventory.services import StockLine, stock_reserve

    variant = VariantFactory(sku="R-1")
    stock_receive(variant_id=variant.pk, quantity=5)
    stock_reserve(lines=[StockLine(variant.pk, 4)], reference="order-1")
    report = stock_import(rows=_rows("sku,location,on_hand\nR-1,,2\n"))
    assert [e.line for e in report.errors] == [2]
    assert "on_hand" in report.errors[0].errors
    assert StockLevel.objects.get(variant=variant).on_hand == 5


def test_stock_dry_run_writes_no_movement():
    variant = VariantFactory(sku="D-1")
    report = stock_import(rows=_rows("sku,location,on_hand\nD-1,,4\n"), dry_run=True)
    assert report.created == 1
    assert not StockMovement.objects.filter(variant=variant).exists()


# --- admin ----------------------------------------------------------------------------------


def _admin_import(client, url_name: str, text: str, resource: int = 0):
    upload = SimpleUploadedFile("data.csv", text.encode(), content_type="text/csv")
    return client.post(
        reverse(url_name),
        {"import_file": upload, "format": "0", "resource": str(resource)},
    )


def test_admin_import_dry_run_then_confirm(client, apparel):
    client.force_login(SuperuserFactory())
    response = _admin_import(client, "admin:catalog_product_import", HEADER + GOOD)
    assert response.status_code == 200
    result = response.context["result"]
    assert not result.has_errors() and not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["new", "new", "new"]
    assert Variant.objects.count() == 0  # the preview is a dry run

    confirm = response.context["confirm_form"]
    done = client.post(reverse("admin:catalog_product_process_import"), confirm.initial)
    assert done.status_code == 302
    assert set(Variant.objects.values_list("sku", flat=True)) == {"TEE-S", "TEE-M", "MUG-1"}


def test_admin_import_shows_row_errors_and_writes_nothing(client, apparel):
    client.force_login(SuperuserFactory())
    response = _admin_import(client, "admin:catalog_product_import", HEADER + GOOD + BAD)
    assert response.status_code == 200
    result = response.context["result"]
    assert result.has_validation_errors()
    invalid = {row.number: row.field_specific_errors for row in result.invalid_rows}
    assert invalid[1 + 3]["price"] == ["Ensure this value is greater than or equal to 0."]
    assert invalid[2 + 3]["sku"] == ["This field is required."]
    assert "confirm_form" not in response.context or response.context["confirm_form"] is None
    assert Variant.objects.count() == 0
    assert b"Ensure this value is greater than or equal to 0." in response.content


def test_admin_stock_import_uses_inventory_services(client):
    client.force_login(SuperuserFactory())
    VariantFactory(sku="S-1")
    response = _admin_import(client, "admin:catalog_variant_import", "sku,location,on_hand\nS-1,,6\n", 1)
    assert response.status_code == 200
    assert [row.import_type for row in response.context["result"].rows] == ["new"]
    confirm = response.context["confirm_form"]
    client.post(reverse("admin:catalog_variant_process_import"), confirm.initial)
    assert list(StockMovement.objects.values_list("kind", "quantity")) == [("receive", 6)]


def test_admin_export_has_one_row_per_variant(client):
    client.force_login(SuperuserFactory())
    VariantFactory(sku="E-1", product__name="Exported", price=Decimal("3.00"))
    response = client.post(
        reverse("admin:catalog_variant_export"),
        {
            "format": "0",
            "resource": "0",
            **{f"catalogresource_{column}": "on" for column in CATALOG_COLUMNS},
        },
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert text.splitlines()[0].startswith("sku,product,product_slug,category,brand")
    assert "E-1,Exported" in text


def _offered(client) -> list[str]:
    response = client.get(reverse("admin:catalog_product_import"))
    if response.status_code != 200:
        return [str(response.status_code)]
    return [label for _, label in response.context["form"].fields["resource"].choices]


def test_import_is_only_offered_to_roles_with_write_permissions(client):
    client.force_login(StaffFactory(roles=["catalog_manager"]))
    assert _offered(client) == ["Products and variants (one row per variant)"]
    client.force_login(StaffFactory(roles=["inventory_clerk"]))  # views products, changes stock
    assert _offered(client) == ["Stock levels (sku, location code, counted on_hand)"]
    client.force_login(StaffFactory(roles=["customer_support"]))  # views products only
    assert _offered(client) == ["403"]


# --- management command ---------------------------------------------------------------------


def test_command_imports_and_reports(tmp_path, apparel, capsys):
    path = tmp_path / "catalog.csv"
    path.write_text(HEADER + GOOD)
    call_command("catalog_import", str(path), "--no-progress", "--batch-size", "2")
    assert "3 created, 0 updated" in capsys.readouterr().out
    assert Variant.objects.count() == 3


def test_command_dry_run_and_error_report(tmp_path, apparel, capsys):
    path, report = tmp_path / "catalog.csv", tmp_path / "errors.csv"
    path.write_text(HEADER + GOOD + BAD)
    with pytest.raises(CommandError, match="3 row"):
        call_command("catalog_import", str(path), "--dry-run", "--no-progress", "--errors", str(report))
    out = capsys.readouterr()
    assert "DRY RUN" in out.out
    assert "line 5: price" in out.err
    assert list(csv.reader(report.read_text().splitlines()))[:2] == [
        ["line", "column", "message"],
        ["5", "price", "Ensure this value is greater than or equal to 0."],
    ]
    assert Variant.objects.count() == 0 and Category.objects.count() == 1


def test_command_refuses_a_file_without_required_columns(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("sku,name\nA,B\n")
    with pytest.raises(CommandError, match="Missing columns"):
        call_command("catalog_import", str(path), "--no-progress")


def test_command_stock_kind(tmp_path, capsys):
    VariantFactory(sku="K-1")
    path = tmp_path / "stock.csv"
    path.write_text("sku,location,on_hand\nK-1,,3\n")
    call_command("catalog_import", str(path), "--kind", "stock", "--no-progress")
    assert StockLevel.objects.get(variant__sku="K-1").on_hand == 3


def test_reimporting_the_same_file_changes_nothing(apparel):
    catalog_import(rows=_rows(HEADER + GOOD))
    before = dict(Product.objects.values_list("pk", "updated_at"))
    report = catalog_import(rows=_rows(HEADER + GOOD))
    assert (report.created, report.updated, report.skipped) == (0, 0, 3)
    assert dict(Product.objects.values_list("pk", "updated_at")) == before


def test_reimport_updates_only_changed_rows(apparel):
    catalog_import(rows=_rows(HEADER + GOOD))
    changed = GOOD.replace("MUG-1,Mug,Kitchen,,,9.50", "MUG-1,Big mug,Kitchen,,,11.00")
    report = catalog_import(rows=_rows(HEADER + changed))
    assert (report.updated, report.skipped) == (1, 2)
    mug = Variant.objects.select_related("product").get(sku="MUG-1")
    assert (mug.price, mug.product.name) == (Decimal("11.00"), "Big mug")
    assert Variant.objects.get(sku="TEE-S").price == Decimal("19.90")
