"""Inventory admin: every page opens with a pinned query count; receive/adjust go through the services."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.inventory.models import Location, ReorderAlert, Reservation, StockLevel, StockMovement
from apps.inventory.services import StockLine, stock_level_set_reorder, stock_reserve
from tests.factories.accounts import StaffFactory
from tests.factories.inventory import LocationFactory, assert_ledger_matches, level_of, stocked_variant

pytestmark = pytest.mark.django_db


def _grow(n):
    """n variants stocked in a new store, each with a reservation, a sale and an open alert."""
    store = LocationFactory()
    for _ in range(n):
        variant = stocked_variant(4, location=store)
        stock_reserve(lines=[StockLine(variant.pk, 3)], reference=f"R-{variant.pk}")
        stock_level_set_reorder(level_id=level_of(variant, store).pk, reorder_point=2)


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return len(ctx.captured_queries)


def _first(model):
    return model.objects.order_by("pk").first().pk


CHANGELISTS = {
    "location": ("admin:inventory_location_changelist", None, 5),
    # Unfiltered level/ledger lists read the table estimate first (apps/inventory/pagination.py).
    "stocklevel": ("admin:inventory_stocklevel_changelist", None, 6),
    "stocklevel-below": ("admin:inventory_stocklevel_changelist", "below_reorder=yes", 5),
    "stocklevel-above": ("admin:inventory_stocklevel_changelist", "below_reorder=no", 5),
    "stocklevel-search": ("admin:inventory_stocklevel_changelist", "q=Product", 6),  # + exact-SKU probe
    "stockmovement": ("admin:inventory_stockmovement_changelist", None, 8),
    "stockmovement-kind": ("admin:inventory_stockmovement_changelist", "kind=reserve", 7),
    "reservation": ("admin:inventory_reservation_changelist", None, 8),
    "reorderalert": ("admin:inventory_reorderalert_changelist", None, 6),
    "reorderalert-open": ("admin:inventory_reorderalert_changelist", "state=open", 6),
}


@pytest.mark.parametrize("name", list(CHANGELISTS))
def test_changelist_opens_with_a_pinned_query_count(admin_client, name):
    url_name, query, pinned = CHANGELISTS[name]
    if name in ("stocklevel", "stockmovement") and connection.vendor != "postgresql":
        pinned -= 1  # no row-estimate query outside PostgreSQL
    url = reverse(url_name) + (f"?{query}" if query else "")
    _grow(2)
    admin_client.get(url)  # warm caches (content types, session)
    small = _queries(admin_client, url)
    _grow(8)
    large = _queries(admin_client, url)
    assert (small, large) == (pinned, pinned)


CHANGE_FORMS = {
    "location": (Location, 3),
    "stocklevel": (StockLevel, 3),
    "stockmovement": (StockMovement, 5),
    "reservation": (Reservation, 5),
    "reorderalert": (ReorderAlert, 4),
}


@pytest.mark.parametrize("name", list(CHANGE_FORMS))
def test_change_form_opens_with_a_pinned_query_count(admin_client, name):
    model, pinned = CHANGE_FORMS[name]
    _grow(3)
    url = reverse(f"admin:inventory_{name}_change", args=[_first(model)])
    admin_client.get(url)
    assert _queries(admin_client, url) == pinned


def test_location_add_form_and_move_page_open(admin_client):
    assert admin_client.get(reverse("admin:inventory_location_add")).status_code == 200
    assert admin_client.get(reverse("admin:inventory_stocklevel_move")).status_code == 200


def test_ledger_reservations_and_alerts_are_read_only(admin_client):
    _grow(1)
    for name, model in (
        ("stockmovement", StockMovement),
        ("reservation", Reservation),
        ("reorderalert", ReorderAlert),
    ):
        assert admin_client.get(reverse(f"admin:inventory_{name}_add")).status_code == 403
        pk = _first(model)
        assert (
            admin_client.post(
                reverse(f"admin:inventory_{name}_delete", args=[pk]), {"post": "yes"}
            ).status_code
            == 403
        )
        assert model.objects.filter(pk=pk).exists()
    assert admin_client.get(reverse("admin:inventory_stocklevel_add")).status_code == 403


def test_default_location_cannot_be_deleted(admin_client):
    main = Location.objects.get(is_default=True)
    response = admin_client.post(reverse("admin:inventory_location_delete", args=[main.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Location.objects.filter(pk=main.pk).exists()


def test_location_add_and_make_default_action(admin_client):
    response = admin_client.post(
        reverse("admin:inventory_location_add"),
        {"code": "ROS", "name": "Rosario", "kind": "store", "address": "", "is_sellable": "on"},
    )
    assert response.status_code == 302
    rosario = Location.objects.get(code="ROS")
    assert (rosario.is_sellable, rosario.is_default) == (True, False)
    response = admin_client.post(
        reverse("admin:inventory_location_changelist"),
        {"action": "make_default", "_selected_action": [rosario.pk]},
    )
    assert response.status_code == 302
    assert Location.objects.get(is_default=True) == rosario


# --- receive / adjust ---------------------------------------------------------------------------


def _action(client, action, levels, **data):
    return client.post(
        reverse("admin:inventory_stocklevel_changelist"),
        {"action": action, "_selected_action": [lv.pk for lv in levels], **data},
        follow=False,
    )


def test_receive_action_shows_an_intermediate_form_then_receives(admin_client):
    a, b = stocked_variant(2), stocked_variant(5)
    levels = [level_of(a), level_of(b)]
    page = _action(admin_client, "receive_stock", levels)
    assert page.status_code == 200
    assert b"Receive stock" in page.content
    assert a.sku.encode() in page.content
    assert StockMovement.objects.count() == 2  # nothing booked yet
    response = _action(admin_client, "receive_stock", levels, apply="1", quantity="10", reason="delivery 7")
    assert response.status_code == 302
    assert (level_of(a).on_hand, level_of(b).on_hand) == (12, 15)
    booked = StockMovement.objects.filter(reason="delivery 7")
    assert booked.count() == 2
    assert {m.kind for m in booked} == {"receive"}
    assert all(m.actor is not None for m in booked)
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["Received 10 unit(s) on 2 stock level(s)."]
    assert_ledger_matches()


def test_adjust_action_is_all_or_nothing(admin_client):
    a, b = stocked_variant(10), stocked_variant(2)
    levels = [level_of(a), level_of(b)]
    response = _action(admin_client, "adjust_stock", levels, apply="1", quantity="-3", reason="count")
    assert response.status_code == 302
    assert (level_of(a).on_hand, level_of(b).on_hand) == (10, 2)
    assert not StockMovement.objects.filter(kind="adjust").exists()
    (message,) = [str(m) for m in get_messages(response.wsgi_request)]
    assert message.startswith("Nothing changed:")
    assert f"variant {b.pk}: 3 requested, 2 available" in message
    response = _action(admin_client, "adjust_stock", levels, apply="1", quantity="-2", reason="count")
    assert (level_of(a).on_hand, level_of(b).on_hand) == (8, 0)
    assert_ledger_matches()


def test_action_with_invalid_quantity_redisplays_the_form(admin_client):
    level = level_of(stocked_variant(2))
    response = _action(admin_client, "receive_stock", [level], apply="1", quantity="abc")
    assert response.status_code == 200
    assert b"Enter a whole number" in response.content
    response = _action(admin_client, "receive_stock", [level], apply="1", quantity="0")
    assert response.status_code == 302
    assert "Nothing changed" in str(list(get_messages(response.wsgi_request))[0])
    assert StockMovement.objects.count() == 1


def test_move_page_receives_a_new_sku_at_a_location_and_reports_errors(admin_client):
    store = LocationFactory(code="S9")
    variant = stocked_variant(0, sku="NEW-SKU")
    url = reverse("admin:inventory_stocklevel_move")
    response = admin_client.post(
        url,
        {"sku": "NEW-SKU", "location": store.pk, "kind": "receive", "quantity": "6", "reason": "first"},
        follow=True,
    )
    assert response.redirect_chain == [(reverse("admin:inventory_stocklevel_changelist"), 302)]
    assert b"Receive of 6 \xc3\x97 NEW-SKU booked: 6 on hand, 0 reserved." in response.content
    assert level_of(variant, store).on_hand == 6
    response = admin_client.post(
        url, {"sku": "NEW-SKU", "location": store.pk, "kind": "adjust", "quantity": "-9"}
    )
    assert response.status_code == 200
    assert level_of(variant, store).on_hand == 6
    assert "9 requested, 6 available" in [str(m) for m in get_messages(response.wsgi_request)][0]
    response = admin_client.post(url, {"sku": "NOPE", "kind": "receive", "quantity": "1"})
    assert response.status_code == 200
    assert b"No variant has this SKU." in response.content


def test_change_form_saves_reorder_settings_through_the_service(admin_client):
    variant = stocked_variant(3)
    level = level_of(variant)
    response = admin_client.post(
        reverse("admin:inventory_stocklevel_change", args=[level.pk]),
        {"reorder_point": "5", "reorder_qty": "10", "on_hand": "999"},
    )
    assert response.status_code == 302
    level.refresh_from_db()
    assert (level.on_hand, level.reorder_point, level.reorder_qty) == (3, 5, 10)
    assert ReorderAlert.objects.get(is_open=True).suggested_qty == 10


def test_clerk_sees_move_tools_and_view_only_role_does_not(db):
    clerk, viewer = Client(), Client()
    clerk.force_login(StaffFactory(roles=["inventory_clerk"]))
    viewer.force_login(StaffFactory(roles=["catalog_manager"]))  # view-only on stock levels
    level = level_of(stocked_variant(1))
    url = reverse("admin:inventory_stocklevel_changelist")
    assert b"Receive or adjust stock" in clerk.get(url).content
    viewer_page = viewer.get(url)
    assert viewer_page.status_code == 200
    assert b"Receive or adjust stock" not in viewer_page.content
    assert b"receive_stock" not in viewer_page.content
    assert viewer.get(reverse("admin:inventory_stocklevel_move")).status_code == 403
    response = _action(viewer, "receive_stock", [level], apply="1", quantity="5")
    assert level_of(level.variant).on_hand == 1
    response = _action(clerk, "receive_stock", [level], apply="1", quantity="5")
    assert response.status_code == 302
    assert level_of(level.variant).on_hand == 6


def test_location_change_form_saves_through_the_service(admin_client):
    store = LocationFactory(code="OLD", name="Old name")
    response = admin_client.post(
        reverse("admin:inventory_location_change", args=[store.pk]),
        {"code": "NEW", "name": "New name", "kind": "warehouse", "address": "Calle 1"},
    )
    assert response.status_code == 302
    store.refresh_from_db()
    assert (store.code, store.name, store.kind, store.address, store.is_sellable) == (
        "NEW",
        "New name",
        "warehouse",
        "Calle 1",
        False,
    )
    response = admin_client.post(
        reverse("admin:inventory_location_change", args=[store.pk]),
        {"code": "MAIN", "name": "Clash", "kind": "store"},
    )
    assert response.status_code == 200  # the form reports the duplicate code
    store.refresh_from_db()
    assert store.code == "NEW"


def test_stock_level_search_by_exact_sku_or_product_name(admin_client):
    exact = stocked_variant(1, sku="ABC-1")
    stocked_variant(1, sku="ABC-10")
    url = reverse("admin:inventory_stocklevel_changelist")
    response = admin_client.get(url, {"q": "ABC-1"})
    assert [lv.variant_id for lv in response.context["cl"].result_list] == [exact.pk]
    response = admin_client.get(url, {"q": "ABC"})
    assert len(response.context["cl"].result_list) == 2
    response = admin_client.get(url, {"q": exact.product.name})
    assert [lv.variant_id for lv in response.context["cl"].result_list] == [exact.pk]
