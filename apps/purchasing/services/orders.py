"""Purchase order lifecycle: create, place, cancel, receive.

Every status change locks the order row (`select_for_update`) and checks `TRANSITIONS`, so two
clerks acting at once serialise and the second sees the first's result (409 if it no longer applies).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.catalog.models import Variant
from apps.inventory.models import Location
from apps.inventory.services import default_location, stock_receive
from shop.events import publish
from shop.exceptions import InvalidTransition, ValidationFailed

from ..exceptions import OverReceipt
from ..models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderReceipt, Supplier, SupplierProduct

Status = PurchaseOrder.Status

# The whole state machine: anything not listed is an illegal transition (409).
TRANSITIONS: dict[str, frozenset[str]] = {
    Status.DRAFT: frozenset({Status.PLACED, Status.CANCELLED}),
    Status.PLACED: frozenset({Status.PARTIALLY_RECEIVED, Status.RECEIVED, Status.CANCELLED}),
    Status.PARTIALLY_RECEIVED: frozenset({Status.PARTIALLY_RECEIVED, Status.RECEIVED}),
    Status.RECEIVED: frozenset(),
    Status.CANCELLED: frozenset(),
}
# Orders whose goods are still expected (used to avoid suggesting the same variant twice).
OPEN_STATUSES = (Status.DRAFT, Status.PLACED, Status.PARTIALLY_RECEIVED)
CENT = Decimal("0.01")


@dataclass(frozen=True)
class LineInput:
    variant_id: int
    quantity: int
    unit_cost: Decimal | None = None


@dataclass(frozen=True)
class ReceiveLine:
    line_id: int
    quantity: int


def _check_transition(order: PurchaseOrder, target: str) -> None:
    if target not in TRANSITIONS[order.status]:
        raise InvalidTransition(
            f"A {order.get_status_display().lower()} purchase order cannot become "
            f"{Status(target).label.lower()}.",
            details={"status": order.status, "target": str(target)},
        )


def _locked(order: PurchaseOrder | int) -> PurchaseOrder:
    pk = order.pk if isinstance(order, PurchaseOrder) else order
    return PurchaseOrder.objects.select_for_update().get(pk=pk)


def purchase_order_number(pk: int) -> str:
    """The human number of an order from its primary key (PO-000123)."""
    return f"PO-{pk:06d}"


def _priced_lines(*, supplier: Supplier, lines: Sequence[LineInput]) -> list[tuple[LineInput, Decimal]]:
    """Validate lines and give each its unit cost (given, else the supplier's, else the variant's)."""
    if not lines:
        raise ValidationFailed(details={"lines": ["At least one line is required."]})
    variant_ids = [line.variant_id for line in lines]
    errors: dict[int, dict[str, list[str]]] = {}
    seen: set[int] = set()
    for index, line in enumerate(lines):
        if line.quantity <= 0:
            errors.setdefault(index, {})["quantity"] = ["Must be a positive number of units."]
        if line.unit_cost is not None and line.unit_cost < 0:
            errors.setdefault(index, {})["unit_cost"] = ["Must be zero or more."]
        if line.variant_id in seen:
            errors.setdefault(index, {})["variant"] = ["This variant is already on another line."]
        seen.add(line.variant_id)
    variants = Variant.objects.in_bulk(variant_ids)
    supplier_costs = dict(
        SupplierProduct.objects.filter(supplier=supplier, variant_id__in=variant_ids).values_list(
            "variant_id", "unit_cost"
        )
    )
    priced: list[tuple[LineInput, Decimal]] = []
    for index, line in enumerate(lines):
        variant = variants.get(line.variant_id)
        cost = line.unit_cost
        if variant is None:
            errors.setdefault(index, {})["variant"] = ["Unknown variant."]
        elif cost is None:
            cost = supplier_costs.get(line.variant_id, variant.cost)
            if cost is None:
                errors.setdefault(index, {})["unit_cost"] = [
                    "Required: no supplier or variant cost is known."
                ]
        priced.append((line, Decimal(cost or 0).quantize(CENT, rounding=ROUND_HALF_UP)))
    if errors:
        # Keyed by line index like DRF's own nested-list errors, so clients parse one shape.
        raise ValidationFailed(details={"lines": {str(i): errors[i] for i in sorted(errors)}})
    return priced


def _write_lines(order: PurchaseOrder, priced: list[tuple[LineInput, Decimal]]) -> Decimal:
    PurchaseOrderLine.objects.bulk_create(
        [
            PurchaseOrderLine(order=order, variant_id=line.variant_id, quantity=line.quantity, unit_cost=cost)
            for line, cost in priced
        ]
    )
    total = sum((cost * line.quantity for line, cost in priced), Decimal("0.00"))
    return total.quantize(CENT, rounding=ROUND_HALF_UP)


@transaction.atomic
def purchase_order_create(
    *,
    supplier: Supplier,
    lines: Sequence[LineInput],
    location: Location | None = None,
    expected_date: date | None = None,
    notes: str = "",
    created_by: Any = None,
) -> PurchaseOrder:
    """Create a draft purchase order; a line without unit cost takes the supplier's (or the variant's) cost.

    The number comes from the primary key after the insert, so concurrent creates never collide.
    """
    if not supplier.is_active:
        raise ValidationFailed(details={"supplier": ["This supplier is inactive."]})
    priced = _priced_lines(supplier=supplier, lines=lines)
    location = location or default_location()
    if expected_date is None:
        expected_date = timezone.now().date() + timedelta(days=supplier.lead_time_days)
    order = PurchaseOrder.objects.create(
        supplier=supplier,
        location=location,
        expected_date=expected_date,
        notes=notes,
        created_by=created_by if getattr(created_by, "is_authenticated", False) else None,
    )
    order.number = purchase_order_number(order.pk)
    order.total = _write_lines(order, priced)
    PurchaseOrder.objects.filter(pk=order.pk).update(number=order.number, total=order.total)
    return order


@transaction.atomic
def purchase_order_update(
    *,
    order: PurchaseOrder | int,
    expected_date: date | None = None,
    notes: str | None = None,
    location: Location | None = None,
    lines: Sequence[LineInput] | None = None,
    actor: Any = None,
) -> PurchaseOrder:
    """Edit an order: dates and notes until it is closed; location and lines (replaced) only as a draft."""
    order = _locked(order)
    if order.status in (Status.RECEIVED, Status.CANCELLED):
        raise InvalidTransition(
            "A received or cancelled purchase order cannot be changed.", details={"status": order.status}
        )
    if (lines is not None or (location is not None and location.pk != order.location_id)) and (
        order.status != Status.DRAFT
    ):
        raise InvalidTransition(
            "Only a draft purchase order can change its lines or location.", details={"status": order.status}
        )
    fields = ["updated_at"]
    if expected_date is not None:
        order.expected_date = expected_date
        fields.append("expected_date")
    if notes is not None:
        order.notes = notes
        fields.append("notes")
    if location is not None:
        order.location = location
        fields.append("location")
    if lines is not None:
        priced = _priced_lines(supplier=order.supplier, lines=lines)
        order.lines.all().delete()
        order.total = _write_lines(order, priced)
        fields.append("total")
    order.save(update_fields=fields)
    return order


@transaction.atomic
def purchase_order_place(*, order: PurchaseOrder | int, actor: Any = None) -> PurchaseOrder:
    """Send a draft order to the supplier (draft → placed)."""
    order = _locked(order)
    _check_transition(order, Status.PLACED)
    order.status, order.placed_at = Status.PLACED, timezone.now()
    order.save(update_fields=["status", "placed_at", "updated_at"])
    return order


@transaction.atomic
def purchase_order_cancel(
    *, order: PurchaseOrder | int, actor: Any = None, reason: str = ""
) -> PurchaseOrder:
    """Cancel an order nothing has been received on yet (draft or placed → cancelled)."""
    order = _locked(order)
    _check_transition(order, Status.CANCELLED)
    order.status, order.cancelled_at = Status.CANCELLED, timezone.now()
    fields = ["status", "cancelled_at", "updated_at"]
    if reason:
        order.notes = f"{order.notes}\nCancelled: {reason}".strip()
        fields.append("notes")
    order.save(update_fields=fields)
    return order


@transaction.atomic
def purchase_order_receive(
    *,
    order: PurchaseOrder | int,
    lines: Sequence[ReceiveLine] | None = None,
    actor: Any = None,
) -> PurchaseOrder:
    """Receive goods into the order's location: the given lines, or everything outstanding.

    All or nothing: units go through `stock_receive` (a `receive` movement referenced `po:<number>`),
    each line's `received_quantity` rises, a dated receipt row is kept, and one
    `purchase_order_received` event is published. Receiving more than a line still expects is 409
    `over_receipt` listing every offending line; nothing changes then.
    """
    order = _locked(order)
    # Check the status first so receiving a draft or a closed order is a 409 whatever the lines say.
    if order.status not in (Status.PLACED, Status.PARTIALLY_RECEIVED):
        _check_transition(order, Status.RECEIVED)
    order_lines = {line.pk: line for line in order.lines.select_for_update().order_by("pk")}

    wanted: dict[int, int] = {}
    if lines is None:
        wanted = {pk: line.outstanding for pk, line in order_lines.items() if line.outstanding > 0}
    else:
        if not lines:
            raise ValidationFailed(
                details={"lines": ["Give at least one line, or omit lines to receive all."]}
            )
        unknown = sorted({rl.line_id for rl in lines if rl.line_id not in order_lines})
        if unknown:
            raise ValidationFailed(details={"lines": [f"Line {pk} is not on this order." for pk in unknown]})
        if any(rl.quantity <= 0 for rl in lines):
            raise ValidationFailed(details={"quantity": ["Must be a positive number of units."]})
        for rl in lines:
            wanted[rl.line_id] = wanted.get(rl.line_id, 0) + rl.quantity
        over = [
            {
                "line": pk,
                "variant": order_lines[pk].variant_id,
                "ordered": order_lines[pk].quantity,
                "received": order_lines[pk].received_quantity,
                "outstanding": order_lines[pk].outstanding,
                "requested": qty,
            }
            for pk, qty in sorted(wanted.items())
            if qty > order_lines[pk].outstanding
        ]
        if over:
            raise OverReceipt(details={"lines": over})
    if not wanted:
        raise InvalidTransition("Nothing is outstanding on this order.", details={"status": order.status})

    now = timezone.now()
    reference = f"po:{order.number}"
    receipts: list[PurchaseOrderReceipt] = []
    # Variant order keeps the stock rows' lock order stable between concurrent receipts.
    for pk in sorted(wanted, key=lambda pk: (order_lines[pk].variant_id, pk)):
        line, qty = order_lines[pk], wanted[pk]
        stock_receive(
            variant_id=line.variant_id,
            quantity=qty,
            location_id=order.location_id,
            actor=actor,
            reason=f"Purchase order {order.number}",
            reference=reference,
        )
        line.received_quantity += qty
        receipts.append(
            PurchaseOrderReceipt(
                line=line,
                quantity=qty,
                unit_cost=line.unit_cost,
                received_at=now,
                received_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
        )
    PurchaseOrderLine.objects.bulk_update([order_lines[pk] for pk in wanted], ["received_quantity"])
    PurchaseOrderReceipt.objects.bulk_create(receipts)

    complete = all(line.outstanding == 0 for line in order_lines.values())
    target = Status.RECEIVED if complete else Status.PARTIALLY_RECEIVED
    _check_transition(order, target)
    order.status = target
    order.received_at = now
    order.save(update_fields=["status", "received_at", "updated_at"])
    publish(
        "purchase_order_received",
        {
            "purchase_order_id": order.pk,
            "number": order.number,
            "supplier_id": order.supplier_id,
            "location_id": order.location_id,
            "status": order.status,
            "lines": [
                {
                    "line_id": pk,
                    "variant_id": order_lines[pk].variant_id,
                    "quantity": wanted[pk],
                    "unit_cost": str(order_lines[pk].unit_cost),
                }
                for pk in sorted(wanted)
            ],
        },
    )
    return order
