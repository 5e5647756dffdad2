from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from apps.inventory.models import Location, StockLevel
from apps.inventory.services import stock_level_set_reorder
from apps.purchasing.models import PurchaseOrder, Supplier, SupplierProduct
from apps.purchasing.services import (
    LineInput,
    purchase_order_create,
    purchase_order_place,
    purchase_order_receive,
)
from tests.factories.accounts import StaffFactory, SuperuserFactory
from tests.factories.catalog import VariantFactory
from tests.factories.purchasing import SupplierFactory, SupplierProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_web():
    client = Client()
    client.force_login(SuperuserFactory())
    return client


@pytest.fixture
def clerk_web():
    client = Client()
    client.force_login(StaffFactory(roles=["inventory_clerk"]))
    return client


def _order(n_lines=2, supplier=None):
    return purchase_order_create(
        supplier=supplier or SupplierFactory(),
        lines=[
            LineInput(variant_id=VariantFactory().pk, quantity=5, unit_cost=Decimal("1.50"))
            for _ in range(n_lines)
        ],
    )


def _queries_stable(client, url, grow, django_assert_max_num_queries, expected):
    """Open `url`, add rows with `grow()`, open it again: same (pinned) number of queries."""
    with django_assert_max_num_queries(expected) as first:
        response = client.get(url)
    assert response.status_code == 200
    grow()
    with django_assert_max_num_queries(len(first.captured_queries)):
        response = client.get(url)
    assert response.status_code == 200
    return response


# --- pages open with pinned query counts -------------------------------------------------------


def test_supplier_changelist(admin_web, django_assert_max_num_queries):
    SupplierFactory.create_batch(2)
    url = reverse("admin:purchasing_supplier_changelist")
    _queries_stable(admin_web, url, lambda: SupplierFactory.create_batch(5), django_assert_max_num_queries, 8)


def test_supplier_change_form_does_not_grow_with_supplier_products(admin_web, django_assert_max_num_queries):
    supplier = SupplierFactory()
    SupplierProductFactory.create_batch(2, supplier=supplier)
    url = reverse("admin:purchasing_supplier_change", args=[supplier.pk])
    response = _queries_stable(
        admin_web,
        url,
        lambda: SupplierProductFactory.create_batch(6, supplier=supplier),
        django_assert_max_num_queries,
        12,
    )
    assert response.content.count(b'name="products-') > 8


def test_supplier_add_form_opens(admin_web):
    assert admin_web.get(reverse("admin:purchasing_supplier_add")).status_code == 200


def test_purchase_order_changelist(admin_web, django_assert_max_num_queries):
    _order()
    url = reverse("admin:purchasing_purchaseorder_changelist")
    response = _queries_stable(
        admin_web, url, lambda: [_order() for _ in range(5)], django_assert_max_num_queries, 12
    )
    assert b"Suggest from reorder alerts" in response.content


@pytest.mark.parametrize("status", ["draft", "placed", "received"])
def test_purchase_order_change_form_does_not_grow_with_lines(
    admin_web, django_assert_max_num_queries, status
):
    order = _order(n_lines=2)
    supplier = order.supplier
    bigger = _order(n_lines=8, supplier=supplier)
    for o in (order, bigger):
        if status != "draft":
            purchase_order_place(order=o)
        if status == "received":
            purchase_order_receive(order=o)
    with django_assert_max_num_queries(20) as small:
        response = admin_web.get(reverse("admin:purchasing_purchaseorder_change", args=[order.pk]))
    assert response.status_code == 200
    assert reverse("admin:purchasing_purchaseorder_print", args=[order.pk]).encode() in response.content
    with django_assert_max_num_queries(len(small.captured_queries)):
        response = admin_web.get(reverse("admin:purchasing_purchaseorder_change", args=[bigger.pk]))
    assert response.status_code == 200


def test_purchase_order_add_form_opens(admin_web):
    assert admin_web.get(reverse("admin:purchasing_purchaseorder_add")).status_code == 200


def test_print_page_shows_the_order_with_pinned_queries(admin_web, django_assert_max_num_queries):
    supplier = SupplierFactory(name="Distribuidora Andina", tax_id="30-999")
    order = _order(n_lines=2, supplier=supplier)
    sp = SupplierProductFactory(supplier=supplier, variant=order.lines.first().variant, supplier_sku="AND-77")
    url = reverse("admin:purchasing_purchaseorder_print", args=[order.pk])
    with django_assert_max_num_queries(8) as first:
        response = admin_web.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert order.number in html and "Distribuidora Andina" in html and "30-999" in html
    assert sp.supplier_sku in html and sp.variant.sku in html
    assert "15.00" in html  # total: 2 lines × 5 × 1.50
    bigger = _order(n_lines=9, supplier=supplier)
    with django_assert_max_num_queries(len(first.captured_queries)):
        assert (
            admin_web.get(reverse("admin:purchasing_purchaseorder_print", args=[bigger.pk])).status_code
            == 200
        )


def test_print_page_needs_purchase_order_permission():
    client = Client()
    client.force_login(StaffFactory(roles=["catalog_manager"]))
    response = client.get(reverse("admin:purchasing_purchaseorder_print", args=[_order().pk]))
    assert response.status_code == 403


# --- writes go through services -------------------------------------------------------------------


def _action(client, action, orders):
    return client.post(
        reverse("admin:purchasing_purchaseorder_changelist"),
        {"action": action, "_selected_action": [o.pk for o in orders]},
        follow=True,
    )


def test_place_receive_cancel_actions(clerk_web):
    a, b, c = _order(), _order(), _order()
    response = _action(clerk_web, "place_selected", [a, b])
    assert response.status_code == 200
    assert {o.status for o in PurchaseOrder.objects.filter(pk__in=[a.pk, b.pk])} == {"placed"}

    _action(clerk_web, "receive_selected", [a])
    a.refresh_from_db()
    assert a.status == "received"
    line = a.lines.first()
    assert StockLevel.objects.get(variant=line.variant, location=a.location).on_hand == 5

    response = _action(clerk_web, "cancel_selected", [a, b, c])
    messages = [str(m) for m in response.context["messages"]]
    assert f"Cancelled: {b.number}, {c.number}." in messages
    assert any(m.startswith(f"{a.number}: ") for m in messages)  # received orders cannot be cancelled
    assert [o.status for o in PurchaseOrder.objects.filter(pk__in=[a.pk, b.pk, c.pk]).order_by("pk")] == [
        "received",
        "cancelled",
        "cancelled",
    ]


def test_suggest_button_creates_drafts_and_warns_about_unassigned_alerts(clerk_web):
    location = Location.objects.get(is_default=True)
    covered = SupplierProductFactory().variant
    orphan = VariantFactory(sku="ORPHAN-1")
    for variant in (covered, orphan):
        level = StockLevel.objects.create(variant=variant, location=location)
        stock_level_set_reorder(level_id=level.pk, reorder_point=2, reorder_qty=4)
    response = clerk_web.post(reverse("admin:purchasing_purchaseorder_suggest"), follow=True)
    assert response.status_code == 200
    order = PurchaseOrder.objects.get()
    messages = [str(m) for m in response.context["messages"]]
    assert f"Created draft orders: {order.number}." in messages
    assert "Reorder alerts left without an order: ORPHAN-1 (no_preferred_supplier)." in messages


def _management(prefix, total, initial=0):
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_adding_a_purchase_order_in_the_admin_uses_the_service(clerk_web):
    supplier = SupplierFactory()
    v1, v2 = VariantFactory(), VariantFactory()
    data = {
        "supplier": supplier.pk,
        "location": Location.objects.get(is_default=True).pk,
        "expected_date": "2026-12-01",
        "notes": "From the admin",
        **_management("lines", 2),
        "lines-0-variant": v1.pk,
        "lines-0-quantity": 3,
        "lines-0-unit_cost": "2.00",
        "lines-1-variant": v2.pk,
        "lines-1-quantity": 1,
        "lines-1-unit_cost": "10.00",
    }
    response = clerk_web.post(reverse("admin:purchasing_purchaseorder_add"), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    order = PurchaseOrder.objects.get()
    assert (order.number, order.status, order.total, order.notes) == (
        f"PO-{order.pk:06d}",
        "draft",
        Decimal("16.00"),
        "From the admin",
    )
    assert sorted(order.lines.values_list("variant_id", "quantity")) == sorted([(v1.pk, 3), (v2.pk, 1)])


def test_editing_draft_lines_in_the_admin_replaces_them_and_recomputes_the_total(clerk_web):
    order = _order(n_lines=1)
    line = order.lines.get()
    extra = VariantFactory()
    data = {
        "location": order.location_id,
        "expected_date": order.expected_date.isoformat(),
        "notes": "",
        **_management("lines", 2, initial=1),
        "lines-0-id": line.pk,
        "lines-0-order": order.pk,
        "lines-0-variant": line.variant_id,
        "lines-0-quantity": 7,
        "lines-0-unit_cost": "1.50",
        "lines-1-order": order.pk,
        "lines-1-variant": extra.pk,
        "lines-1-quantity": 2,
        "lines-1-unit_cost": "4.00",
    }
    response = clerk_web.post(reverse("admin:purchasing_purchaseorder_change", args=[order.pk]), data)
    assert response.status_code == 302
    order.refresh_from_db()
    assert order.total == Decimal("18.50")
    assert sorted(order.lines.values_list("variant_id", "quantity")) == sorted(
        [(line.variant_id, 7), (extra.pk, 2)]
    )


def test_adding_a_supplier_with_products_in_the_admin(clerk_web):
    variant = VariantFactory()
    data = {
        "name": "Bebidas del Plata",
        "tax_id": "30-1",
        "email": "",
        "phone": "",
        "lead_time_days": 4,
        "is_active": "on",
        **_management("products", 1),
        "products-0-variant": variant.pk,
        "products-0-supplier_sku": "BP-1",
        "products-0-unit_cost": "3.20",
        "products-0-min_order_qty": 12,
        "products-0-is_preferred": "on",
    }
    response = clerk_web.post(reverse("admin:purchasing_supplier_add"), data)
    assert response.status_code == 302, response.context["errors"] if response.context else response
    supplier = Supplier.objects.get()
    sp = SupplierProduct.objects.get()
    assert (supplier.name, sp.supplier, sp.variant, sp.unit_cost, sp.min_order_qty, sp.is_preferred) == (
        "Bebidas del Plata",
        supplier,
        variant,
        Decimal("3.20"),
        12,
        True,
    )


def test_admin_refuses_a_second_preferred_supplier_for_a_variant_with_a_clear_message(clerk_web):
    taken = SupplierProductFactory(is_preferred=True)
    data = {
        "name": "Otro proveedor",
        "tax_id": "",
        "email": "",
        "phone": "",
        "lead_time_days": 4,
        "is_active": "on",
        **_management("products", 1),
        "products-0-variant": taken.variant_id,
        "products-0-unit_cost": "3.00",
        "products-0-min_order_qty": 1,
        "products-0-is_preferred": "on",
    }
    response = clerk_web.post(reverse("admin:purchasing_supplier_add"), data)
    assert response.status_code == 200
    assert "Another supplier is already preferred for this variant." in response.content.decode()
    assert not Supplier.objects.filter(name="Otro proveedor").exists()


# --- supplier products ---------------------------------------------------------------------------


def test_a_supplier_with_many_offers_links_to_the_supplier_product_list_instead_of_an_inline(
    admin_web, django_assert_max_num_queries
):
    from apps.purchasing.admin import SUPPLIER_INLINE_MAX

    supplier = SupplierFactory()
    SupplierProductFactory.create_batch(SUPPLIER_INLINE_MAX + 1, supplier=supplier, is_preferred=False)
    with django_assert_max_num_queries(10):
        response = admin_web.get(reverse("admin:purchasing_supplier_change", args=[supplier.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="products-TOTAL_FORMS"' not in html
    assert f"?supplier__id__exact={supplier.pk}" in html and f"{SUPPLIER_INLINE_MAX + 1} products" in html


def test_supplier_product_changelist_and_forms(admin_web, django_assert_max_num_queries):
    SupplierProductFactory()
    url = reverse("admin:purchasing_supplierproduct_changelist")
    _queries_stable(
        admin_web, url, lambda: SupplierProductFactory.create_batch(6), django_assert_max_num_queries, 10
    )
    row = SupplierProduct.objects.first()
    assert admin_web.get(reverse("admin:purchasing_supplierproduct_change", args=[row.pk])).status_code == 200
    assert admin_web.get(reverse("admin:purchasing_supplierproduct_add")).status_code == 200


def test_supplier_product_admin_writes_through_the_services(clerk_web):
    supplier, variant = SupplierFactory(), VariantFactory()
    data = {
        "supplier": supplier.pk,
        "variant": variant.pk,
        "supplier_sku": "X-1",
        "unit_cost": "2.40",
        "min_order_qty": 6,
        "lead_time_days": "",
        "is_preferred": "on",
    }
    response = clerk_web.post(reverse("admin:purchasing_supplierproduct_add"), data)
    assert response.status_code == 302
    row = SupplierProduct.objects.get()
    assert (row.supplier, row.variant, row.unit_cost, row.min_order_qty, row.is_preferred) == (
        supplier,
        variant,
        Decimal("2.40"),
        6,
        True,
    )
    response = clerk_web.post(
        reverse("admin:purchasing_supplierproduct_changelist"),
        {"action": "delete_selected", "_selected_action": [row.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert not SupplierProduct.objects.exists()
