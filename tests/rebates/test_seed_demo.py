import pytest
from django.core.management import call_command
from django.db.models import Count, F, Sum

from apps.catalog.models import Brand, Category, Product, Variant
from apps.inventory.models import Location, ReorderAlert, StockLevel, StockMovement
from apps.purchasing.models import PurchaseOrder, Supplier, SupplierProduct
from apps.rebates.models import RebateAgreement
from apps.rebates.selectors import rebate_statement

pytestmark = pytest.mark.django_db


def test_seed_demo_builds_a_consistent_small_store():
    call_command("seed_demo", products=30, verbosity=0)

    assert Product.objects.count() == 30
    assert not Product.objects.filter(category__parent__isnull=True).exists()  # products sit on leaves
    assert not Category.objects.filter(parent__parent__isnull=False).exists()  # two levels
    per_product = Product.objects.annotate(n=Count("variants")).values_list("n", flat=True)
    assert set(per_product) <= {1, 2, 3}
    locations = set(StockLevel.objects.values_list("location__code", flat=True))
    assert locations == {Location.objects.get(is_default=True).code, "STORE-MIRAFLORES"}
    assert StockLevel.objects.count() == 2 * Variant.objects.count()
    # The ledger tells the truth: every level equals the sum of its movements.
    ledger = {
        (row["variant_id"], row["location_id"]): row["total"]
        for row in StockMovement.objects.values("variant_id", "location_id").annotate(
            total=Sum("on_hand_delta")
        )
    }
    for level in StockLevel.objects.all():
        assert ledger.get((level.variant_id, level.location_id), 0) == level.on_hand
    assert all(level.reorder_point > 0 for level in StockLevel.objects.all())
    below = StockLevel.objects.filter(on_hand__lte=F("reorder_point")).count()
    assert ReorderAlert.objects.filter(is_open=True).count() == below
    assert Supplier.objects.count() >= 5
    assert SupplierProduct.objects.filter(is_preferred=True).exists()
    statuses = set(PurchaseOrder.objects.values_list("status", flat=True))
    assert {"draft", "placed", "received", "partially_received", "cancelled"} <= statuses
    received = PurchaseOrder.objects.filter(status="received").first()
    assert StockMovement.objects.filter(reference=f"po:{received.number}").exists()
    agreement = RebateAgreement.objects.get()
    assert agreement.tiers.count() >= 2
    statement = rebate_statement(agreement)
    assert statement.basis_amount > 0 and statement.tier is not None


def test_seed_demo_if_empty_does_nothing_when_products_exist():
    call_command("seed_demo", products=10, verbosity=0)
    counts = (Product.objects.count(), StockMovement.objects.count(), PurchaseOrder.objects.count())
    call_command("seed_demo", "--if-empty", products=10, verbosity=0)
    assert (Product.objects.count(), StockMovement.objects.count(), PurchaseOrder.objects.count()) == counts


def test_seed_demo_run_again_adds_products_but_reuses_the_category_tree_and_brands():
    call_command("seed_demo", products=10, verbosity=0)
    categories, brands = Category.objects.count(), Brand.objects.count()
    call_command("seed_demo", products=10, verbosity=0)  # same seed: SKUs must not collide
    assert Product.objects.count() == 20
    assert (Category.objects.count(), Brand.objects.count()) == (categories, brands)
