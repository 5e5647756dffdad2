import datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.inventory.models import Location, StockLevel, StockMovement
from apps.purchasing.exceptions import OverReceipt
from apps.purchasing.models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderReceipt, Supplier
from apps.purchasing.services import (
    TRANSITIONS,
    LineInput,
    ReceiveLine,
    purchase_order_cancel,
    purchase_order_create,
    purchase_order_place,
    purchase_order_receive,
    supplier_create,
    supplier_product_set,
    supplier_update,
)
from shop.events.models import OutboxEvent
from shop.exceptions import InvalidTransition, ValidationFailed
from tests.factories.accounts import StaffFactory
from tests.factories.catalog import VariantFactory
from tests.factories.inventory import LocationFactory
from tests.factories.purchasing import SupplierFactory, SupplierProductFactory

pytestmark = pytest.mark.django_db
S = PurchaseOrder.Status


def _order(*, lines=((5, "2.50"), (3, "10.00")), supplier=None, location=None, place=False):
    supplier = supplier or SupplierFactory()
    variants = [VariantFactory() for _ in lines]
    order = purchase_order_create(
        supplier=supplier,
        location=location,
        lines=[
            LineInput(variant_id=v.pk, quantity=q, unit_cost=Decimal(c))
            for v, (q, c) in zip(variants, lines, strict=True)
        ],
    )
    if place:
        purchase_order_place(order=order)
    order.refresh_from_db()
    return order


def _on_hand(variant_id, location_id=None):
    location_id = location_id or Location.objects.get(is_default=True).pk
    level = StockLevel.objects.filter(variant_id=variant_id, location_id=location_id).first()
    return level.on_hand if level else 0


def _received_events():
    return list(OutboxEvent.objects.filter(name="purchase_order_received").order_by("created_at"))


# --- suppliers ---------------------------------------------------------------------------------


def test_supplier_create_refuses_a_name_taken_case_insensitively():
    supplier_create(name="Distribuidora Norte")
    with pytest.raises(ValidationFailed) as exc:
        supplier_create(name="  distribuidora norte ")
    assert exc.value.details == {"name": ["A supplier with this name already exists."]}
    assert Supplier.objects.count() == 1


def test_supplier_update_changes_only_the_given_fields():
    supplier = SupplierFactory(name="A", phone="1", lead_time_days=5)
    supplier_update(supplier=supplier, data={"lead_time_days": 9})
    supplier.refresh_from_db()
    assert (supplier.name, supplier.phone, supplier.lead_time_days) == ("A", "1", 9)


def test_preferring_a_supplier_product_unprefers_the_previous_one():
    variant = VariantFactory()
    first = supplier_product_set(
        supplier=SupplierFactory(), variant_id=variant.pk, unit_cost=Decimal("3"), is_preferred=True
    )
    second = supplier_product_set(
        supplier=SupplierFactory(), variant_id=variant.pk, unit_cost=Decimal("2"), is_preferred=True
    )
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.is_preferred, second.is_preferred) == (False, True)


# --- create ------------------------------------------------------------------------------------


def test_create_makes_a_numbered_draft_at_the_default_location_with_total():
    supplier = SupplierFactory(lead_time_days=4)
    order = _order(supplier=supplier)
    assert order.status == S.DRAFT
    assert order.number == f"PO-{order.pk:06d}"
    assert order.location == Location.objects.get(is_default=True)
    assert order.total == Decimal("42.50")  # 5 × 2.50 + 3 × 10.00
    assert order.expected_date == timezone.now().date() + datetime.timedelta(days=4)
    assert list(order.lines.values_list("quantity", "received_quantity", "unit_cost")) == [
        (5, 0, Decimal("2.50")),
        (3, 0, Decimal("10.00")),
    ]


def test_create_takes_unit_cost_from_supplier_product_then_variant_cost():
    supplier = SupplierFactory()
    listed = SupplierProductFactory(supplier=supplier, unit_cost=Decimal("3.10")).variant
    unlisted = VariantFactory(cost=Decimal("7.25"))
    order = purchase_order_create(
        supplier=supplier,
        lines=[LineInput(variant_id=listed.pk, quantity=2), LineInput(variant_id=unlisted.pk, quantity=1)],
    )
    costs = dict(order.lines.values_list("variant_id", "unit_cost"))
    assert costs == {listed.pk: Decimal("3.10"), unlisted.pk: Decimal("7.25")}
    assert order.total == Decimal("13.45")


@pytest.mark.parametrize(
    ("lines", "details"),
    [
        ([], {"lines": ["At least one line is required."]}),
        ("duplicate", {"lines": {"1": {"variant": ["This variant is already on another line."]}}}),
        ("no_cost", {"lines": {"0": {"unit_cost": ["Required: no supplier or variant cost is known."]}}}),
        ("zero_qty", {"lines": {"0": {"quantity": ["Must be a positive number of units."]}}}),
    ],
)
def test_create_refuses_bad_lines_and_writes_nothing(lines, details):
    variant = VariantFactory(cost=None)
    if lines == "duplicate":
        lines = [LineInput(variant.pk, 1, Decimal("1")), LineInput(variant.pk, 2, Decimal("1"))]
    elif lines == "no_cost":
        lines = [LineInput(variant.pk, 1)]
    elif lines == "zero_qty":
        lines = [LineInput(variant.pk, 0, Decimal("1"))]
    with pytest.raises(ValidationFailed) as exc:
        purchase_order_create(supplier=SupplierFactory(), lines=lines)
    assert exc.value.details == details
    assert PurchaseOrder.objects.count() == 0


def test_create_refuses_an_inactive_supplier():
    variant = VariantFactory()
    with pytest.raises(ValidationFailed) as exc:
        purchase_order_create(
            supplier=SupplierFactory(is_active=False), lines=[LineInput(variant.pk, 1, Decimal("1"))]
        )
    assert exc.value.details == {"supplier": ["This supplier is inactive."]}
    assert PurchaseOrder.objects.count() == 0


# --- transitions -------------------------------------------------------------------------------


def test_transition_table_is_exactly_the_documented_state_machine():
    assert {k: set(v) for k, v in TRANSITIONS.items()} == {
        S.DRAFT: {S.PLACED, S.CANCELLED},
        S.PLACED: {S.PARTIALLY_RECEIVED, S.RECEIVED, S.CANCELLED},
        S.PARTIALLY_RECEIVED: {S.PARTIALLY_RECEIVED, S.RECEIVED},
        S.RECEIVED: set(),
        S.CANCELLED: set(),
    }


def _in_status(status):
    order = _order()
    if status in (S.PLACED, S.PARTIALLY_RECEIVED, S.RECEIVED):
        purchase_order_place(order=order)
    if status == S.PARTIALLY_RECEIVED:
        purchase_order_receive(order=order, lines=[ReceiveLine(order.lines.first().pk, 1)])
    if status == S.RECEIVED:
        purchase_order_receive(order=order)
    if status == S.CANCELLED:
        purchase_order_cancel(order=order)
    order.refresh_from_db()
    assert order.status == status
    return order


def test_place_moves_a_draft_to_placed_with_a_timestamp():
    order = _in_status(S.DRAFT)
    purchase_order_place(order=order)
    order.refresh_from_db()
    assert order.status == S.PLACED and order.placed_at is not None


@pytest.mark.parametrize("status", [S.DRAFT, S.PLACED])
def test_cancel_is_allowed_from_draft_and_placed(status):
    order = _in_status(status)
    purchase_order_cancel(order=order, reason="supplier out of stock")
    order.refresh_from_db()
    assert order.status == S.CANCELLED and order.cancelled_at is not None
    assert order.notes.endswith("Cancelled: supplier out of stock")


@pytest.mark.parametrize(
    ("status", "action"),
    [
        (S.PLACED, "place"),
        (S.PARTIALLY_RECEIVED, "place"),
        (S.RECEIVED, "place"),
        (S.CANCELLED, "place"),
        (S.PARTIALLY_RECEIVED, "cancel"),
        (S.RECEIVED, "cancel"),
        (S.CANCELLED, "cancel"),
        (S.DRAFT, "receive"),
        (S.RECEIVED, "receive"),
        (S.CANCELLED, "receive"),
    ],
)
def test_illegal_transitions_raise_invalid_transition_and_change_nothing(status, action):
    order = _in_status(status)
    before = (order.status, order.updated_at, StockMovement.objects.count(), len(_received_events()))
    call = {"place": purchase_order_place, "cancel": purchase_order_cancel, "receive": purchase_order_receive}
    with pytest.raises(InvalidTransition) as exc:
        call[action](order=order)
    assert exc.value.status_code == 409
    assert exc.value.details["status"] == status
    order.refresh_from_db()
    assert (order.status, order.updated_at, StockMovement.objects.count(), len(_received_events())) == before


# --- receiving ---------------------------------------------------------------------------------


def test_partial_receipt_raises_stock_writes_movements_and_emits_one_event():
    clerk = StaffFactory()
    order = _order(lines=((5, "2.50"), (3, "10.00")), place=True)
    first, second = order.lines.order_by("pk")
    purchase_order_receive(
        order=order, lines=[ReceiveLine(first.pk, 2), ReceiveLine(second.pk, 3)], actor=clerk
    )

    order.refresh_from_db()
    assert order.status == S.PARTIALLY_RECEIVED and order.received_at is not None
    assert list(order.lines.order_by("pk").values_list("received_quantity", flat=True)) == [2, 3]
    assert (_on_hand(first.variant_id), _on_hand(second.variant_id)) == (2, 3)
    movements = StockMovement.objects.filter(reference=f"po:{order.number}").order_by("variant_id")
    assert [(m.variant_id, m.kind, m.quantity, m.actor_id) for m in movements] == [
        (first.variant_id, "receive", 2, clerk.pk),
        (second.variant_id, "receive", 3, clerk.pk),
    ]
    assert list(
        PurchaseOrderReceipt.objects.order_by("line_id").values_list("line_id", "quantity", "unit_cost")
    ) == [
        (first.pk, 2, Decimal("2.50")),
        (second.pk, 3, Decimal("10.00")),
    ]
    [event] = _received_events()
    assert event.payload == {
        "purchase_order_id": order.pk,
        "number": order.number,
        "supplier_id": order.supplier_id,
        "location_id": order.location_id,
        "status": "partially_received",
        "lines": [
            {"line_id": first.pk, "variant_id": first.variant_id, "quantity": 2, "unit_cost": "2.50"},
            {"line_id": second.pk, "variant_id": second.variant_id, "quantity": 3, "unit_cost": "10.00"},
        ],
    }


def test_receiving_without_lines_takes_everything_outstanding_and_completes_the_order():
    order = _order(lines=((5, "2.50"), (3, "10.00")), place=True)
    first, second = order.lines.order_by("pk")
    purchase_order_receive(order=order, lines=[ReceiveLine(first.pk, 2)])
    purchase_order_receive(order=order)

    order.refresh_from_db()
    assert order.status == S.RECEIVED
    assert (_on_hand(first.variant_id), _on_hand(second.variant_id)) == (5, 3)
    assert list(
        StockMovement.objects.filter(variant_id=first.variant_id)
        .order_by("pk")
        .values_list("quantity", flat=True)
    ) == [2, 3]
    events = _received_events()
    assert len(events) == 2
    assert events[1].payload["status"] == "received"
    assert [line["quantity"] for line in events[1].payload["lines"]] == [3, 3]


def test_receiving_goes_to_the_orders_own_location():
    store = LocationFactory(code="STORE1")
    order = _order(lines=((4, "1.00"),), location=store, place=True)
    purchase_order_receive(order=order)
    variant_id = order.lines.get().variant_id
    assert _on_hand(variant_id, store.pk) == 4
    assert _on_hand(variant_id) == 0


def test_over_receiving_is_refused_with_every_offending_line_and_changes_nothing():
    order = _order(lines=((5, "2.50"), (3, "10.00")), place=True)
    first, second = order.lines.order_by("pk")
    purchase_order_receive(order=order, lines=[ReceiveLine(first.pk, 4)])
    with pytest.raises(OverReceipt) as exc:
        purchase_order_receive(order=order, lines=[ReceiveLine(first.pk, 2), ReceiveLine(second.pk, 4)])
    assert exc.value.status_code == 409 and exc.value.code == "over_receipt"
    assert exc.value.details == {
        "lines": [
            {
                "line": first.pk,
                "variant": first.variant_id,
                "ordered": 5,
                "received": 4,
                "outstanding": 1,
                "requested": 2,
            },
            {
                "line": second.pk,
                "variant": second.variant_id,
                "ordered": 3,
                "received": 0,
                "outstanding": 3,
                "requested": 4,
            },
        ]
    }
    order.refresh_from_db()
    assert order.status == S.PARTIALLY_RECEIVED
    assert list(order.lines.order_by("pk").values_list("received_quantity", flat=True)) == [4, 0]
    assert (_on_hand(first.variant_id), _on_hand(second.variant_id)) == (4, 0)
    assert len(_received_events()) == 1


def test_receiving_a_line_of_another_order_is_invalid():
    order = _order(place=True)
    other_line = _order(place=True).lines.first()
    with pytest.raises(ValidationFailed) as exc:
        purchase_order_receive(order=order, lines=[ReceiveLine(other_line.pk, 1)])
    assert exc.value.details == {"lines": [f"Line {other_line.pk} is not on this order."]}
    assert StockMovement.objects.count() == 0


def test_database_refuses_received_quantity_above_ordered():
    from django.db import IntegrityError, transaction

    line = _order(place=True).lines.first()
    with pytest.raises(IntegrityError), transaction.atomic():
        PurchaseOrderLine.objects.filter(pk=line.pk).update(received_quantity=line.quantity + 1)


# --- update ------------------------------------------------------------------------------------


def test_update_replaces_the_lines_of_a_draft_and_recomputes_the_total():
    from apps.purchasing.services import purchase_order_update

    order = _order(lines=((5, "2.50"),))
    variant = VariantFactory()
    purchase_order_update(
        order=order,
        notes="revised",
        lines=[LineInput(variant_id=variant.pk, quantity=2, unit_cost=Decimal("9.99"))],
    )
    order.refresh_from_db()
    assert (order.notes, order.total) == ("revised", Decimal("19.98"))
    assert list(order.lines.values_list("variant_id", "quantity")) == [(variant.pk, 2)]


def test_update_of_a_placed_order_allows_dates_and_notes_but_not_lines():
    from apps.purchasing.services import purchase_order_update

    order = _order(place=True)
    purchase_order_update(order=order, expected_date=datetime.date(2030, 1, 2), notes="call first")
    order.refresh_from_db()
    assert (order.expected_date, order.notes) == (datetime.date(2030, 1, 2), "call first")
    with pytest.raises(InvalidTransition):
        purchase_order_update(order=order, lines=[LineInput(variant_id=VariantFactory().pk, quantity=1)])
    assert order.lines.count() == 2


def test_update_of_a_closed_order_is_refused():
    from apps.purchasing.services import purchase_order_update

    order = _in_status(S.CANCELLED)
    with pytest.raises(InvalidTransition):
        purchase_order_update(order=order, notes="late")
    order.refresh_from_db()
    assert "late" not in order.notes
