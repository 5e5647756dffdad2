"""Stock writes. Every change locks its StockLevel rows in primary-key order (no deadlocks), checks,
updates and appends a StockMovement in the same transaction. The CHECK constraints on StockLevel are
the last line of defence: a violation is reported as `InsufficientStock`, never a 500.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from shop.events import publish
from shop.exceptions import InsufficientStock, ValidationFailed

from .models import Location, ReorderAlert, Reservation, StockLevel, StockMovement


@dataclass(frozen=True)
class StockLine:
    variant_id: int
    quantity: int


def default_location() -> Location:
    """The location used when a caller names none (created by migration)."""
    location = Location.objects.filter(is_default=True).first()
    if location is None:
        raise ValidationFailed("No default stock location is configured.", code="no_default_location")
    return location


def _level_for_update(*, variant_id: int, location_id: int) -> StockLevel:
    StockLevel.objects.get_or_create(variant_id=variant_id, location_id=location_id)
    return StockLevel.objects.select_for_update().get(variant_id=variant_id, location_id=location_id)


def _apply(
    level: StockLevel,
    *,
    kind: str,
    quantity: int,
    on_hand_delta: int,
    reserved_delta: int,
    actor: Any = None,
    reason: str = "",
    reference: str = "",
) -> StockMovement:
    """Change a locked level and append its movement (caller holds the row lock)."""
    level.on_hand += on_hand_delta
    level.reserved += reserved_delta
    try:
        with transaction.atomic():
            level.save(update_fields=["on_hand", "reserved", "updated_at"])
    except IntegrityError:
        level.on_hand -= on_hand_delta
        level.reserved -= reserved_delta
        raise InsufficientStock(
            details={
                "lines": [
                    {"variant": level.variant_id, "requested": abs(quantity), "available": level.available}
                ]
            }
        )
    return StockMovement.objects.create(
        variant_id=level.variant_id,
        location_id=level.location_id,
        kind=kind,
        quantity=quantity,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=level.on_hand,
        reserved_after=level.reserved,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=reason[:255],
        reference=reference[:100],
    )


@transaction.atomic
def stock_receive(
    *,
    variant_id: int,
    quantity: int,
    location_id: int | None = None,
    actor: Any = None,
    reason: str = "",
    reference: str = "",
) -> StockMovement:
    """Add received units to a location's on-hand stock."""
    if quantity <= 0:
        raise ValidationFailed(details={"quantity": ["Must be a positive number of units."]})
    location_id = location_id or default_location().pk
    level = _level_for_update(variant_id=variant_id, location_id=location_id)
    movement = _apply(
        level,
        kind=StockMovement.Kind.RECEIVE,
        quantity=quantity,
        on_hand_delta=quantity,
        reserved_delta=0,
        actor=actor,
        reason=reason,
        reference=reference,
    )
    reorder_alerts_sync(levels=[level])
    return movement


@transaction.atomic
def stock_adjust(
    *,
    variant_id: int,
    quantity: int,
    location_id: int | None = None,
    actor: Any = None,
    reason: str = "",
    reference: str = "",
) -> StockMovement:
    """Correct on-hand stock by a signed quantity (count corrections, damage, shrinkage).

    Refused with `insufficient_stock` if it would take on-hand below zero or below what is reserved.
    """
    if quantity == 0:
        raise ValidationFailed(details={"quantity": ["An adjustment cannot be zero."]})
    location_id = location_id or default_location().pk
    level = _level_for_update(variant_id=variant_id, location_id=location_id)
    if level.on_hand + quantity < level.reserved:
        raise InsufficientStock(
            details={"lines": [{"variant": variant_id, "requested": -quantity, "available": level.available}]}
        )
    movement = _apply(
        level,
        kind=StockMovement.Kind.ADJUST,
        quantity=quantity,
        on_hand_delta=quantity,
        reserved_delta=0,
        actor=actor,
        reason=reason,
        reference=reference,
    )
    reorder_alerts_sync(levels=[level])
    return movement


def _merge(lines: Iterable[StockLine]) -> dict[int, int]:
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        if line.quantity <= 0:
            raise ValidationFailed(details={"quantity": ["Must be a positive number of units."]})
        wanted[line.variant_id] += line.quantity
    return dict(wanted)


@transaction.atomic
def stock_reserve(
    *,
    lines: Sequence[StockLine],
    reference: str,
    expires_at: datetime | None = None,
    actor: Any = None,
) -> list[Reservation]:
    """Hold units for `reference` across sellable locations — all lines or none.

    Locks every candidate StockLevel row in primary-key order, so concurrent reservations over
    the same SKUs in any order cannot deadlock. Raises `InsufficientStock` listing every short
    line (`details.lines: [{variant, requested, available}]`) with nothing reserved.
    """
    wanted = _merge(lines)
    levels = list(
        StockLevel.objects.select_for_update()
        .filter(variant_id__in=wanted, location__is_sellable=True)
        .select_related("location")
        .order_by("pk")
    )
    by_variant: dict[int, list[StockLevel]] = defaultdict(list)
    for level in levels:
        by_variant[level.variant_id].append(level)
    short = [
        {"variant": vid, "requested": qty, "available": sum(max(lv.available, 0) for lv in by_variant[vid])}
        for vid, qty in sorted(wanted.items())
        if sum(max(lv.available, 0) for lv in by_variant[vid]) < qty
    ]
    if short:
        raise InsufficientStock("Not enough stock for some lines.", details={"lines": short})

    expires_at = expires_at or timezone.now() + settings.STOCK_RESERVATION_TTL
    reservations: list[Reservation] = []
    touched: list[StockLevel] = []
    for vid, qty in sorted(wanted.items()):
        # Default location first, then the location with the most available units.
        for level in sorted(
            by_variant[vid], key=lambda lv: (not lv.location.is_default, -lv.available, lv.pk)
        ):
            take = min(qty, level.available)
            if take <= 0:
                continue
            _apply(
                level,
                kind=StockMovement.Kind.RESERVE,
                quantity=take,
                on_hand_delta=0,
                reserved_delta=take,
                actor=actor,
                reference=reference,
                reason="reservation",
            )
            reservations.append(
                Reservation(
                    variant_id=vid,
                    location_id=level.location_id,
                    quantity=take,
                    reference=reference,
                    expires_at=expires_at,
                )
            )
            touched.append(level)
            qty -= take
            if qty == 0:
                break
    Reservation.objects.bulk_create(reservations)
    reorder_alerts_sync(levels=touched)
    return reservations


def _close_reservations(
    *, reference: str, status: str, kind: str, actor: Any, reason: str
) -> list[Reservation]:
    active = list(
        Reservation.objects.select_for_update().filter(reference=reference, status=Reservation.Status.ACTIVE)
    )
    if not active:
        return []
    levels = {
        (lv.variant_id, lv.location_id): lv
        for lv in StockLevel.objects.select_for_update()
        .filter(
            variant_id__in={r.variant_id for r in active}, location_id__in={r.location_id for r in active}
        )
        .order_by("pk")
    }
    now = timezone.now()
    for reservation in active:
        level = levels[(reservation.variant_id, reservation.location_id)]
        q = reservation.quantity
        on_hand_delta = -q if kind == StockMovement.Kind.SALE else 0
        _apply(
            level,
            kind=kind,
            quantity=q,
            on_hand_delta=on_hand_delta,
            reserved_delta=-q,
            actor=actor,
            reference=reference,
            reason=reason,
        )
        reservation.status, reservation.closed_at = status, now
    Reservation.objects.bulk_update(active, ["status", "closed_at"])
    reorder_alerts_sync(levels=list(levels.values()))
    return active


@transaction.atomic
def stock_release(*, reference: str, actor: Any = None, reason: str = "released") -> list[Reservation]:
    """Return every active reservation of `reference` to available stock (idempotent)."""
    return _close_reservations(
        reference=reference,
        status=Reservation.Status.RELEASED,
        kind=StockMovement.Kind.RELEASE,
        actor=actor,
        reason=reason,
    )


@transaction.atomic
def stock_commit_sale(*, reference: str, actor: Any = None, reason: str = "sold") -> list[Reservation]:
    """Turn every active reservation of `reference` into a sale: units leave on-hand (idempotent)."""
    return _close_reservations(
        reference=reference,
        status=Reservation.Status.COMMITTED,
        kind=StockMovement.Kind.SALE,
        actor=actor,
        reason=reason,
    )


def reservations_release_expired(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Release reservations past their expiry; returns how many references were released."""
    now = now or timezone.now()
    references = list(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=now)
        .values_list("reference", flat=True)
        .distinct()[:limit]
    )
    for reference in references:
        stock_release(reference=reference, reason="reservation expired")
    return len(references)


def reorder_alerts_sync(*, levels: Iterable[StockLevel]) -> None:
    """Open an alert when available ≤ reorder point (`stock_below_reorder`); close it when replenished."""
    levels = list(levels)
    if not levels:
        return
    open_alerts = {
        a.stock_level_id: a for a in ReorderAlert.objects.filter(stock_level__in=levels, is_open=True)
    }
    now = timezone.now()
    for level in levels:
        alert = open_alerts.get(level.pk)
        below = level.reorder_point > 0 and level.available <= level.reorder_point
        if below and alert is None:
            suggested = max(level.reorder_qty, level.reorder_point - level.available + 1)
            ReorderAlert.objects.create(
                stock_level=level,
                available=level.available,
                reorder_point=level.reorder_point,
                suggested_qty=suggested,
            )
            publish(
                "stock_below_reorder",
                {
                    "variant_id": level.variant_id,
                    "location_id": level.location_id,
                    "available": level.available,
                    "reorder_point": level.reorder_point,
                    "suggested_qty": suggested,
                },
            )
        elif below and alert is not None and alert.available != level.available:
            ReorderAlert.objects.filter(pk=alert.pk).update(available=level.available)
        elif not below and alert is not None:
            ReorderAlert.objects.filter(pk=alert.pk).update(
                is_open=False, closed_at=now, available=level.available
            )
