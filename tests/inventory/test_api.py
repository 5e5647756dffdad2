"""/stores and /inventory/* (API.md "Inventory and purchasing"): shapes, rules, permissions, queries."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.inventory.models import Location, ReorderAlert, StockLevel, StockMovement
from apps.inventory.services import StockLine, stock_level_set_reorder, stock_reserve
from shop.events.models import OutboxEvent
from tests.factories.catalog import VariantFactory
from tests.factories.inventory import LocationFactory, assert_ledger_matches, level_of, stocked_variant

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def clerk(role_client):
    return role_client("inventory_clerk")


@pytest.fixture
def stock_fixture(db):
    """A level with stock, a reservation and an open alert; returns (variant, level, alert)."""
    variant = stocked_variant(10, sku="SKU-API-1")
    level = level_of(variant)
    stock_reserve(lines=[StockLine(variant.pk, 3)], reference="O-1")
    stock_level_set_reorder(level_id=level.pk, reorder_point=8, reorder_qty=12)
    return variant, level_of(variant), ReorderAlert.objects.get(is_open=True)


# --- permission matrix --------------------------------------------------------------------------


def _operations(stock_fixture):
    variant, level, _ = stock_fixture
    default = Location.objects.get(is_default=True)
    return [
        ("get", f"{API}/stores", None, 200),
        ("post", f"{API}/stores", {"code": "NEW", "name": "New store", "kind": "store"}, 201),
        ("get", f"{API}/stores/{default.pk}", None, 200),
        ("patch", f"{API}/stores/{default.pk}", {"name": "Renamed"}, 200),
        ("get", f"{API}/inventory/movements", None, 200),
        (
            "post",
            f"{API}/inventory/movements",
            {"variant": variant.pk, "kind": "receive", "quantity": 1},
            201,
        ),
        ("get", f"{API}/inventory/stock", None, 200),
        ("get", f"{API}/inventory/stock/{level.pk}", None, 200),
        ("patch", f"{API}/inventory/stock/{level.pk}", {"reorder_point": 2}, 200),
        ("get", f"{API}/inventory/reorder-alerts", None, 200),
    ]


OPERATION_IDS = [
    "list-stores",
    "create-store",
    "get-store",
    "patch-store",
    "list-movements",
    "create-movement",
    "list-stock",
    "get-stock",
    "patch-stock",
    "list-alerts",
]


@pytest.mark.parametrize("index", range(len(OPERATION_IDS)), ids=OPERATION_IDS)
def test_permission_matrix(index, stock_fixture, api_client, customer_client, staff_client, clerk):
    method, url, body, ok_status = _operations(stock_fixture)[index]
    movements_before = StockMovement.objects.count()
    for client, expected, code in (
        (api_client, 401, "not_authenticated"),
        (customer_client, 403, "permission_denied"),
        (staff_client, 403, "permission_denied"),
    ):
        response = getattr(client, method)(url, body, format="json")
        assert response.status_code == expected, (client, response.content)
        assert response.json()["error"]["code"] == code
    # Refused calls changed nothing.
    assert StockMovement.objects.count() == movements_before
    assert not Location.objects.filter(code="NEW").exists()
    assert Location.objects.get(is_default=True).name == "Main warehouse"
    response = getattr(clerk, method)(url, body, format="json")
    assert response.status_code == ok_status, response.content


def test_catalog_manager_can_read_stock_and_stores_but_not_book_movements(role_client, stock_fixture):
    variant = stock_fixture[0]
    manager = role_client("catalog_manager")
    assert manager.get(f"{API}/inventory/stock").status_code == 200
    assert manager.get(f"{API}/stores").status_code == 200
    response = manager.post(
        f"{API}/inventory/movements", {"variant": variant.pk, "kind": "receive", "quantity": 1}, format="json"
    )
    assert response.status_code == 403
    assert manager.get(f"{API}/inventory/movements").status_code == 403


# --- stores -------------------------------------------------------------------------------------


def test_store_list_includes_the_default_location(clerk):
    LocationFactory(code="B-STORE", name="Belgrano", kind="store", address="Cabildo 100", is_sellable=False)
    body = clerk.get(f"{API}/stores").json()
    assert body["count"] == 2
    main = Location.objects.get(code="MAIN")
    belgrano = Location.objects.get(code="B-STORE")
    assert body["results"] == [
        {
            "id": belgrano.pk,
            "code": "B-STORE",
            "name": "Belgrano",
            "kind": "store",
            "address": "Cabildo 100",
            "is_sellable": False,
            "is_default": False,
        },
        {
            "id": main.pk,
            "code": "MAIN",
            "name": "Main warehouse",
            "kind": "warehouse",
            "address": "",
            "is_sellable": True,
            "is_default": True,
        },
    ]


def test_create_store_with_minimal_body(clerk):
    response = clerk.post(f"{API}/stores", {"code": "PAL", "name": "Palermo"}, format="json")
    assert response.status_code == 201
    store = Location.objects.get(code="PAL")
    assert response.json() == {
        "id": store.pk,
        "code": "PAL",
        "name": "Palermo",
        "kind": "store",
        "address": "",
        "is_sellable": True,
        "is_default": False,
    }


def test_create_warehouse_as_new_default(clerk):
    response = clerk.post(
        f"{API}/stores",
        {"code": "WH2", "name": "North", "kind": "warehouse", "address": "Ruta 9", "is_default": True},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["is_default"] is True
    assert list(Location.objects.filter(is_default=True).values_list("code", flat=True)) == ["WH2"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"name": "No code"}, "code"),
        ({"code": "X"}, "name"),
        ({"code": "X", "name": "Bad", "kind": "shop"}, "kind"),
        ({"code": "MAIN", "name": "Duplicate"}, "code"),
        ({"code": "Y" * 40, "name": "Too long"}, "code"),
    ],
)
def test_create_store_invalid(clerk, body, field):
    response = clerk.post(f"{API}/stores", body, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "invalid"
    assert field in error["details"]
    assert Location.objects.count() == 1


def test_patch_store_and_default_rules(clerk):
    store = LocationFactory(code="S1")
    response = clerk.patch(
        f"{API}/stores/{store.pk}", {"is_sellable": False, "address": "Here"}, format="json"
    )
    assert response.status_code == 200
    assert (response.json()["is_sellable"], response.json()["address"]) == (False, "Here")
    main = Location.objects.get(code="MAIN")
    response = clerk.patch(f"{API}/stores/{main.pk}", {"is_default": False}, format="json")
    assert response.status_code == 400
    assert "is_default" in response.json()["error"]["details"]
    response = clerk.patch(f"{API}/stores/{store.pk}", {"is_default": True}, format="json")
    assert response.json()["is_default"] is True
    main.refresh_from_db()
    assert main.is_default is False
    response = clerk.patch(f"{API}/stores/{store.pk}", {"code": "MAIN"}, format="json")
    assert response.status_code == 400


def test_store_unknown_id_is_404_and_put_delete_not_allowed(clerk):
    assert clerk.get(f"{API}/stores/999999").status_code == 404
    main = Location.objects.get(code="MAIN")
    assert clerk.put(f"{API}/stores/{main.pk}", {}, format="json").status_code == 405
    assert clerk.delete(f"{API}/stores/{main.pk}").status_code == 405


# --- movements ----------------------------------------------------------------------------------


def test_post_receive_returns_exact_shape_and_books_the_ledger(clerk):
    variant = VariantFactory()
    response = clerk.post(
        f"{API}/inventory/movements",
        {"variant": variant.pk, "kind": "receive", "quantity": 7, "reason": "delivery"},
        format="json",
    )
    assert response.status_code == 201
    movement = StockMovement.objects.get()
    assert response.json() == {
        "id": movement.pk,
        "kind": "receive",
        "quantity": 7,
        "on_hand": 7,
        "reserved": 0,
    }
    assert (movement.actor, movement.reason, movement.location.is_default) == (clerk.user, "delivery", True)
    assert_ledger_matches(level_of(variant))


def test_post_adjust_at_a_named_location(clerk):
    store = LocationFactory()
    variant = stocked_variant(5, location=store)
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-1")
    response = clerk.post(
        f"{API}/inventory/movements",
        {"variant": variant.pk, "location": store.pk, "kind": "adjust", "quantity": -3},
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["on_hand"] == 2
    assert response.json()["reserved"] == 2
    assert (response.json()["kind"], response.json()["quantity"]) == ("adjust", -3)


def test_adjust_breaking_a_constraint_is_409_insufficient_stock(clerk):
    variant = stocked_variant(5)
    stock_reserve(lines=[StockLine(variant.pk, 2)], reference="O-1")
    response = clerk.post(
        f"{API}/inventory/movements", {"variant": variant.pk, "kind": "adjust", "quantity": -4}, format="json"
    )
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "insufficient_stock"
    assert response.json()["error"]["details"] == {
        "lines": [{"variant": variant.pk, "requested": 4, "available": 3}]
    }
    assert StockMovement.objects.filter(kind="adjust").count() == 0
    assert level_of(variant).on_hand == 5


@pytest.mark.parametrize("kind", ["reserve", "release", "sale", "steal", ""])
def test_other_movement_kinds_are_400(clerk, kind):
    variant = stocked_variant(5)
    response = clerk.post(
        f"{API}/inventory/movements", {"variant": variant.pk, "kind": kind, "quantity": 1}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "kind" in response.json()["error"]["details"]
    assert StockMovement.objects.count() == 1


@pytest.mark.parametrize(
    "body, field",
    [
        ({"kind": "receive", "quantity": 0}, "quantity"),
        ({"kind": "receive", "quantity": -1}, "quantity"),
        ({"kind": "adjust", "quantity": 0}, "quantity"),
        ({"kind": "receive", "quantity": "many"}, "quantity"),
        ({"kind": "receive", "quantity": 10**12}, "quantity"),
        ({"kind": "receive"}, "quantity"),
        ({"kind": "receive", "quantity": 1, "variant": 999999}, "variant"),
        ({"kind": "receive", "quantity": 1, "variant": "abc"}, "variant"),
        ({"kind": "receive", "quantity": 1, "location": 999999}, "location"),
    ],
)
def test_invalid_movement_bodies_are_400_by_field(clerk, body, field):
    variant = VariantFactory()
    response = clerk.post(f"{API}/inventory/movements", {"variant": variant.pk, **body}, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "invalid"
    assert field in response.json()["error"]["details"]
    assert not StockMovement.objects.exists()
    assert not StockLevel.objects.exists()


def test_movement_list_newest_first_with_filters(clerk):
    store = LocationFactory()
    a = stocked_variant(5)
    b = stocked_variant(5, location=store)
    stock_reserve(lines=[StockLine(a.pk, 1)], reference="O-1")
    body = clerk.get(f"{API}/inventory/movements").json()
    assert body["count"] == 3
    assert [m["kind"] for m in body["results"]] == ["reserve", "receive", "receive"]
    first = StockMovement.objects.get(kind="reserve")
    assert body["results"][0] == {
        "id": first.pk,
        "variant": a.pk,
        "sku": a.sku,
        "location": first.location_id,
        "kind": "reserve",
        "quantity": 1,
        "on_hand_delta": 0,
        "reserved_delta": 1,
        "on_hand": 5,
        "reserved": 1,
        "reason": "reservation",
        "reference": "O-1",
        "actor": None,
        "created_at": first.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    assert [
        m["variant"] for m in clerk.get(f"{API}/inventory/movements?variant={b.pk}").json()["results"]
    ] == [b.pk]
    by_location = clerk.get(f"{API}/inventory/movements?location={store.pk}").json()["results"]
    assert [m["variant"] for m in by_location] == [b.pk]
    by_kind = clerk.get(f"{API}/inventory/movements?kind=reserve").json()["results"]
    assert [m["id"] for m in by_kind] == [first.pk]
    by_reference = clerk.get(f"{API}/inventory/movements?reference=O-1").json()["results"]
    assert [m["id"] for m in by_reference] == [first.pk]
    bad = clerk.get(f"{API}/inventory/movements?kind=steal")
    assert bad.status_code == 400


# --- stock levels -------------------------------------------------------------------------------


def test_stock_list_shape_and_filters(clerk, stock_fixture):
    variant, level, _ = stock_fixture
    store = LocationFactory()
    other = stocked_variant(50, location=store)
    other_level = level_of(other, store)
    body = clerk.get(f"{API}/inventory/stock").json()
    assert body["count"] == 2
    assert body["results"][0] == {
        "id": level.pk,
        "variant": variant.pk,
        "sku": "SKU-API-1",
        "location": level.location_id,
        "on_hand": 10,
        "reserved": 3,
        "available": 7,
        "reorder_point": 8,
        "reorder_qty": 12,
    }
    assert [r["id"] for r in clerk.get(f"{API}/inventory/stock?variant={other.pk}").json()["results"]] == [
        other_level.pk
    ]
    assert [r["id"] for r in clerk.get(f"{API}/inventory/stock?location={store.pk}").json()["results"]] == [
        other_level.pk
    ]
    assert [r["id"] for r in clerk.get(f"{API}/inventory/stock?below_reorder=true").json()["results"]] == [
        level.pk
    ]
    assert [r["id"] for r in clerk.get(f"{API}/inventory/stock?below_reorder=false").json()["results"]] == [
        other_level.pk
    ]


def test_patch_stock_sets_reorder_fields_and_resyncs_alert(clerk, stock_fixture):
    variant, level, alert = stock_fixture
    response = clerk.patch(f"{API}/inventory/stock/{level.pk}", {"reorder_point": 5}, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "id": level.pk,
        "variant": variant.pk,
        "sku": "SKU-API-1",
        "location": level.location_id,
        "on_hand": 10,
        "reserved": 3,
        "available": 7,
        "reorder_point": 5,
        "reorder_qty": 12,
    }
    alert.refresh_from_db()
    assert alert.is_open is False
    response = clerk.patch(
        f"{API}/inventory/stock/{level.pk}", {"reorder_point": 9, "reorder_qty": 4}, format="json"
    )
    assert (response.json()["reorder_point"], response.json()["reorder_qty"]) == (9, 4)
    new_alert = ReorderAlert.objects.get(is_open=True)
    assert (new_alert.reorder_point, new_alert.suggested_qty) == (9, 4)
    assert OutboxEvent.objects.filter(name="stock_below_reorder").count() == 2


def test_patch_stock_cannot_touch_quantities(clerk, stock_fixture):
    _, level, _ = stock_fixture
    response = clerk.patch(
        f"{API}/inventory/stock/{level.pk}", {"on_hand": 999, "reorder_qty": 1}, format="json"
    )
    assert response.status_code == 200
    level.refresh_from_db()
    assert (level.on_hand, level.reorder_qty) == (10, 1)


@pytest.mark.parametrize("body", [{"reorder_point": -1}, {"reorder_qty": "x"}, {"reorder_point": 2**31}])
def test_patch_stock_invalid_is_400(clerk, stock_fixture, body):
    _, level, _ = stock_fixture
    response = clerk.patch(f"{API}/inventory/stock/{level.pk}", body, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["details"]) == set(body)


@pytest.mark.parametrize(
    "query",
    [
        "/inventory/stock?variant=abc",
        "/inventory/movements?location=1.5",
        "/inventory/stock?below_reorder=maybe",
    ],
)
def test_malformed_filters_are_400(clerk, query):
    response = clerk.get(API + query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"


def test_stock_unknown_id_is_404(clerk):
    assert clerk.get(f"{API}/inventory/stock/999999").status_code == 404
    assert (
        clerk.patch(f"{API}/inventory/stock/999999", {"reorder_point": 1}, format="json").status_code == 404
    )


# --- reorder alerts -----------------------------------------------------------------------------


def test_reorder_alerts_lists_open_alerts_only(clerk, stock_fixture):
    variant, level, alert = stock_fixture
    closed_variant = stocked_variant(1, reorder_point=5)
    stocked_variant(50, reorder_point=5)  # never below
    from apps.inventory.services import stock_receive

    stock_receive(variant_id=closed_variant.pk, quantity=20)  # closes its alert
    body = clerk.get(f"{API}/inventory/reorder-alerts").json()
    assert body["count"] == 1
    assert body["results"] == [
        {
            "id": alert.pk,
            "variant": variant.pk,
            "sku": "SKU-API-1",
            "location": level.location_id,
            "available": 7,
            "reorder_point": 8,
            "suggested_qty": 12,
            "created_at": alert.created_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
    ]
    store_filtered = clerk.get(f"{API}/inventory/reorder-alerts?location=999999").json()
    assert store_filtered["count"] == 0


# --- query counts -------------------------------------------------------------------------------


def _count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _grow(n):
    store = LocationFactory()
    for _ in range(n):
        variant = stocked_variant(3, location=store)
        stock_reserve(lines=[StockLine(variant.pk, 3)], reference=f"R-{variant.pk}")
        stock_level_set_reorder(level_id=level_of(variant, store).pk, reorder_point=1)


# auth (JWT user) + user permissions + group permissions + COUNT + page = 5; the unfiltered ledger and
# stock lists first read the table's row estimate (apps/inventory/pagination.py) = 6.
PINNED_LIST_QUERIES = {
    "/stores": 5,
    "/inventory/movements": 6,
    "/inventory/movements?kind=reserve": 5,
    "/inventory/stock": 6,
    "/inventory/stock?below_reorder=true": 5,
    "/inventory/reorder-alerts": 5,
}


@pytest.mark.parametrize("url", list(PINNED_LIST_QUERIES))
def test_list_query_count_is_pinned_and_does_not_grow(clerk, url, django_assert_num_queries):
    _grow(2)
    clerk.get(API + url)  # warm the content-type cache
    small = _count_queries(clerk, API + url)
    _grow(6)
    assert _count_queries(clerk, API + url) == small
    pinned = PINNED_LIST_QUERIES[url]
    if url in ("/inventory/movements", "/inventory/stock") and connection.vendor != "postgresql":
        pinned -= 1  # no row-estimate query outside PostgreSQL
    with django_assert_num_queries(pinned):
        clerk.get(API + url)


@pytest.mark.postgres
def test_large_unfiltered_ledger_counts_by_estimate(clerk, monkeypatch):
    from apps.inventory import pagination

    stocked_variant(3)
    stocked_variant(4)
    monkeypatch.setattr(pagination, "EXACT_COUNT_UP_TO", 0)
    monkeypatch.setattr(pagination, "estimated_rows", lambda queryset: 123_456)
    assert clerk.get(f"{API}/inventory/movements").json()["count"] == 123_456
    # A filtered list is always counted exactly.
    assert clerk.get(f"{API}/inventory/movements?kind=receive").json()["count"] == 2


@pytest.mark.postgres
def test_estimated_rows_reads_the_planner_statistics():
    from django.db import connection as conn

    from apps.inventory.pagination import estimated_rows

    stocked_variant(3)
    with conn.cursor() as cursor:
        cursor.execute("ANALYZE inventory_stockmovement")
    assert estimated_rows(StockMovement.objects.all()) == 1
