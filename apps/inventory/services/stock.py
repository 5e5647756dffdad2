"""Stock writes: receive, adjust, reserve, release, sell.

Every change locks its StockLevel rows in primary-key order (so concurrent callers touching the same
SKUs in any order cannot deadlock), checks the invariants under the lock, updates the levels and
appends one StockMovement per changed level in the same transaction. The movement carries the
on-hand and reserved deltas, so for every level `sum(on_hand_delta) == on_hand` and
`sum(reserved_delta) == reserved` (checked by `manage.py stock_reconcile`).

The CHECK constraints on StockLevel are the last line of defence: should one still fire, the
service reports `InsufficientStock` (409), never a 500.
"""

import functools
import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ParamSpec, TypeVar

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from apps.catalog.models import Variant
from shop.db import WriteBatch, instance_from_row, select_columns
from shop.exceptions import InsufficientStock, ValidationFailed

from ..models import Location, Reservation, StockLevel, StockMovement
from .alerts import is_below_reorder, reorder_alerts_sync

logger = logging.getLogger("apps.inventory")

# StockLevel.on_hand is a 32-bit integer column; refuse anything that would overflow it (a 400, not a
# database error).
MAX_UNITS = 2**31 - 1

P = ParamSpec("P")
R = TypeVar("R")


@dataclass(frozen=True)
class StockLine:
    variant_id: int
    quantity: int


def _integrity_as_conflict(func: Callable[P, R]) -> Callable[P, R]:
    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except IntegrityError as exc:
            # Only reachable if a level was written without its row lock; the atomic block has
            # already rolled back (to its savepoint, or the caller's whole transaction is doomed).
            logger.error("stock_integrity_error", extra={"service": func.__name__, "error": str(exc)})
            raise InsufficientStock("The stock change would break a stock constraint.") from exc

    return wrapper


def _stock_transaction(func: Callable[P, R]) -> Callable[P, R]:
    """Run `func` atomically; a CHECK violation that slipped past the checks becomes a 409."""

    @functools.wraps(func)
    def atomic_func(*args: P.args, **kwargs: P.kwargs) -> R:
        with transaction.atomic():
            return func(*args, **kwargs)

    return _integrity_as_conflict(atomic_func)


DEFAULT_LOCATION = {"code": "MAIN", "name": "Main warehouse", "kind": "warehouse", "is_sellable": True}


def default_location() -> Location:
    """The location used when a caller names none (created by migration).

    With no location at all (a database flushed after migrating, e.g. by transactional tests) the
    migration's default is recreated; with locations but none marked default, it is an error.
    """
    location = Location.objects.filter(is_default=True).first()
    if location is None and not Location.objects.exists():
        location, _ = Location.objects.get_or_create(
            code=DEFAULT_LOCATION["code"], defaults={**DEFAULT_LOCATION, "is_default": True}
        )
    if location is None or not location.is_default:
        raise ValidationFailed("No default stock location is configured.", code="no_default_location")
    return location


def _check_quantity(quantity: Any, *, allow_negative: bool = False, field: str = "quantity") -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool):
        raise ValidationFailed(details={field: ["Must be a whole number of units."]})
    if quantity == 0 or (quantity < 0 and not allow_negative):
        message = "An adjustment cannot be zero." if allow_negative else "Must be a positive number of units."
        raise ValidationFailed(details={field: [message]})
    if abs(quantity) > MAX_UNITS:
        raise ValidationFailed(details={field: [f"Must be at most {MAX_UNITS} units."]})
    return quantity


def _resolve_target(*, variant_id: int, location_id: int | None) -> int:
    """Check the variant and location exist (foreign keys are only checked at commit on PostgreSQL)."""
    if not Variant.objects.filter(pk=variant_id).exists():
        raise ValidationFailed(details={"variant": [f"Unknown variant {variant_id}."]})
    if location_id is None:
        return default_location().pk
    if not Location.objects.filter(pk=location_id).exists():
        raise ValidationFailed(details={"location": [f"Unknown location {location_id}."]})
    return location_id


def _level_for_update(*, variant_id: int, location_id: int) -> StockLevel:
    # A concurrent creator makes get_or_create retry its (locking) get after the unique violation.
    level, _ = StockLevel.objects.select_for_update().get_or_create(
        variant_id=variant_id, location_id=location_id
    )
    return level


def _short(level: StockLevel, requested: int) -> InsufficientStock:
    return InsufficientStock(
        details={
            "lines": [{"variant": level.variant_id, "requested": requested, "available": level.available}]
        }
    )


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
    """Apply deltas to a level the caller holds locked, in memory; return its (unsaved) movement."""
    on_hand = level.on_hand + on_hand_delta
    reserved = level.reserved + reserved_delta
    if on_hand < 0 or reserved < 0 or reserved > on_hand:
        raise _short(level, abs(quantity))
    if on_hand > MAX_UNITS:
        raise ValidationFailed(details={"quantity": [f"On-hand stock cannot exceed {MAX_UNITS} units."]})
    level.on_hand, level.reserved = on_hand, reserved
    return StockMovement(
        variant_id=level.variant_id,
        location_id=level.location_id,
        kind=kind,
        quantity=quantity,
        on_hand_delta=on_hand_delta,
        reserved_delta=reserved_delta,
        on_hand_after=on_hand,
        reserved_after=reserved,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        reason=(reason or "")[:255],
        reference=(reference or "")[:100],
    )


def _change(level: StockLevel, **change: Any) -> StockMovement:
    """`_apply` and save the level; return its (unsaved) movement."""
    movement = _apply(level, **change)
    level.save(update_fields=["on_hand", "reserved", "updated_at"])
    return movement


# The levels a reservation changed (locked by the caller), in one UPDATE; their movements and
# reservations are inserted beside it, in the same statement (shop.db.WriteBatch).
_LEVELS_UPDATE_SQL = """
UPDATE {level} AS s SET on_hand = v.on_hand, reserved = v.reserved, updated_at = %s
FROM unnest(%s::bigint[], %s::integer[], %s::integer[]) AS v(id, on_hand, reserved)
WHERE s.id = v.id
"""


def _write_reservations(
    levels: list[StockLevel],
    movements: list[StockMovement],
    reservations: list[Reservation],
    batch: WriteBatch | None,
) -> None:
    """Persist what stock_reserve decided, with the caller's pending writes: one statement on PostgreSQL."""
    batch = batch or WriteBatch()
    if connection.vendor == "postgresql":
        now = timezone.now()
        for level in levels:
            level.updated_at = now
        batch.write(
            _LEVELS_UPDATE_SQL.format(level=StockLevel._meta.db_table),
            [
                now,
                [level.pk for level in levels],
                [level.on_hand for level in levels],
                [level.reserved for level in levels],
            ],
        )
    else:
        for level in levels:
            level.save(update_fields=["on_hand", "reserved", "updated_at"])
    batch.insert(movements)
    batch.insert(reservations)
    batch.flush()


def _on_hand_change(
    *,
    kind: str,
    variant_id: int,
    quantity: int,
    location_id: int | None,
    actor: Any,
    reason: str,
    reference: str,
) -> StockMovement:
    # Shared body of receive and adjust: one locked level, an on-hand-only movement, alerts re-evaluated.
    location_id = _resolve_target(variant_id=variant_id, location_id=location_id)
    level = _level_for_update(variant_id=variant_id, location_id=location_id)
    movement = _change(
        level,
        kind=kind,
        quantity=quantity,
        on_hand_delta=quantity,
        reserved_delta=0,
        actor=actor,
        reason=reason,
        reference=reference,
    )
    movement.save()
    reorder_alerts_sync(levels=[level])
    return movement


@_stock_transaction
def stock_receive(
    *,
    variant_id: int,
    quantity: int,
    location_id: int | None = None,
    actor: Any = None,
    reason: str = "",
    reference: str = "",
) -> StockMovement:
    """Add received units to a location's on-hand stock (the default location when none is given)."""
    _check_quantity(quantity)
    return _on_hand_change(
        kind=StockMovement.Kind.RECEIVE,
        variant_id=variant_id,
        quantity=quantity,
        location_id=location_id,
        actor=actor,
        reason=reason,
        reference=reference,
    )


@_stock_transaction
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
    _check_quantity(quantity, allow_negative=True)
    return _on_hand_change(
        kind=StockMovement.Kind.ADJUST,
        variant_id=variant_id,
        quantity=quantity,
        location_id=location_id,
        actor=actor,
        reason=reason,
        reference=reference,
    )


def _merge(lines: Iterable[StockLine]) -> dict[int, int]:
    wanted: dict[int, int] = defaultdict(int)
    for line in lines:
        _check_quantity(line.quantity)
        wanted[line.variant_id] += line.quantity
    if not wanted:
        raise ValidationFailed(details={"lines": ["At least one line is required."]})
    return dict(wanted)


def _allocation_order(level: StockLevel, default_locations: set[int]) -> tuple[bool, int, int]:
    # Default location first, then the location with the most available units.
    return (level.location_id not in default_locations, -level.available, level.pk)


# The sellable levels of some variants, locked in primary-key order. FOR UPDATE OF s: lock the stock
# rows only, not the joined location (that would serialise every reservation of the whole shop on the
# default location's row).
_LOCK_SELLABLE_LEVELS_SQL = """
SELECT {columns}, l.is_default
FROM {level} s JOIN {location} l ON l.id = s.location_id
WHERE s.variant_id = ANY(%s) AND l.is_sellable
ORDER BY s.id
FOR UPDATE OF s
"""


def _lock_sellable_levels(variant_ids: list[int]) -> tuple[list[StockLevel], set[int]]:
    """Lock the sellable levels of `variant_ids` in primary-key order; also return the default location.

    On PostgreSQL one hand-written statement (shop.db): checkout runs it for every order, and building
    it through the ORM cost more CPU than running it.
    """
    if connection.vendor != "postgresql":
        levels = list(
            StockLevel.objects.select_for_update(of=("self",))
            .filter(variant_id__in=variant_ids, location__is_sellable=True)
            .select_related("location")
            .order_by("pk")
        )
        return levels, {level.location_id for level in levels if level.location.is_default}
    sql = _LOCK_SELLABLE_LEVELS_SQL.format(
        columns=select_columns(StockLevel, "s"),
        level=StockLevel._meta.db_table,
        location=Location._meta.db_table,
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [variant_ids])
        rows = cursor.fetchall()
    levels = [instance_from_row(StockLevel, row) for row in rows]
    return levels, {level.location_id for level, row in zip(levels, rows, strict=True) if row[-1]}


@_integrity_as_conflict
def stock_reserve(
    *,
    lines: Sequence[StockLine],
    reference: str,
    expires_at: datetime | None = None,
    actor: Any = None,
    batch: WriteBatch | None = None,
) -> list[Reservation]:
    """Hold units for `reference` across sellable locations — all lines or none.

    Locks every candidate StockLevel row in primary-key order, so concurrent reservations over
    the same SKUs in any order cannot deadlock. Raises `InsufficientStock` listing every short
    line (`details.lines: [{variant, requested, available}]`) with nothing reserved. A variant
    without stock (or unknown) is short with `available: 0`. A line may be split across locations.

    Inside a caller's transaction (checkout) it takes no savepoint, which saves two round trips: the
    checks raise before anything is written, so the caller's transaction stays usable after a short
    line; a failure while writing dooms the caller's whole transaction instead of a savepoint.

    `batch`: writes the caller has pending in the same transaction. The reservation's writes join them
    and all go out in one statement (checkout sends its order_placed event this way); after a short
    line nothing is flushed.
    """
    if not reference:
        raise ValidationFailed(details={"reference": ["A reference is required."]})
    wanted = _merge(lines)
    outer = nullcontext() if transaction.get_connection().in_atomic_block else transaction.atomic()
    with outer:
        levels, default_locations = _lock_sellable_levels(sorted(wanted))
        by_variant: dict[int, list[StockLevel]] = defaultdict(list)
        for level in levels:
            by_variant[level.variant_id].append(level)
        short = []
        for variant_id, requested in sorted(wanted.items()):
            available = sum(max(level.available, 0) for level in by_variant[variant_id])
            if available < requested:
                short.append({"variant": variant_id, "requested": requested, "available": available})
        if short:
            raise InsufficientStock("Not enough stock for some lines.", details={"lines": short})

        # Writes only from here on, all or nothing with the caller's transaction.
        with transaction.atomic(savepoint=False):
            expires_at = expires_at or timezone.now() + settings.STOCK_RESERVATION_TTL
            reservations: list[Reservation] = []
            movements: list[StockMovement] = []
            touched: list[StockLevel] = []
            for variant_id, requested in sorted(wanted.items()):
                remaining = requested
                for level in sorted(
                    by_variant[variant_id], key=lambda lv: _allocation_order(lv, default_locations)
                ):
                    take = min(remaining, level.available)
                    if take <= 0:
                        continue
                    movements.append(
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
                    )
                    reservations.append(
                        Reservation(
                            variant_id=variant_id,
                            location_id=level.location_id,
                            quantity=take,
                            reference=reference,
                            expires_at=expires_at,
                        )
                    )
                    touched.append(level)
                    remaining -= take
                    if remaining == 0:
                        break
            _write_reservations(touched, movements, reservations, batch)
            # A reservation only lowers `available`: a level above its reorder point now was above it
            # before, and every writer keeps "open alert <=> below reorder" under the row lock, so
            # such a level has no alert to open, update or close; skip the alert query for it.
            reorder_alerts_sync(levels=[level for level in touched if is_below_reorder(level)])
    return reservations


def _close_reservations(
    *,
    reference: str,
    status: str,
    kind: str,
    actor: Any,
    reason: str,
    expired_before: datetime | None = None,
) -> list[Reservation]:
    # Reservations first, then their levels, both in pk order: every path that holds both takes
    # them in this order (stock_reserve only inserts reservations, which locks nothing shared).
    filters = Q(reference=reference, status=Reservation.Status.ACTIVE)
    if expired_before is not None:
        filters &= Q(expires_at__lte=expired_before)
    active = list(Reservation.objects.select_for_update().filter(filters).order_by("pk"))
    if not active:
        return []
    pairs = Q()
    for key in {(r.variant_id, r.location_id) for r in active}:
        pairs |= Q(variant_id=key[0], location_id=key[1])
    levels = {
        (level.variant_id, level.location_id): level
        for level in StockLevel.objects.select_for_update().filter(pairs).order_by("pk")
    }
    now = timezone.now()
    movements = []
    for reservation in active:
        level = levels[(reservation.variant_id, reservation.location_id)]
        quantity = reservation.quantity
        movements.append(
            _change(
                level,
                kind=kind,
                quantity=quantity,
                on_hand_delta=-quantity if kind == StockMovement.Kind.SALE else 0,
                reserved_delta=-quantity,
                actor=actor,
                reference=reference,
                reason=reason,
            )
        )
        reservation.status, reservation.closed_at = status, now
    StockMovement.objects.bulk_create(movements)
    Reservation.objects.bulk_update(active, ["status", "closed_at"])
    reorder_alerts_sync(levels=list(levels.values()))
    return active


@_stock_transaction
def stock_release(*, reference: str, actor: Any = None, reason: str = "released") -> list[Reservation]:
    """Return every active reservation of `reference` to available stock (idempotent).

    Returns the reservations released by this call: empty when there was nothing left to release.
    """
    return _close_reservations(
        reference=reference,
        status=Reservation.Status.RELEASED,
        kind=StockMovement.Kind.RELEASE,
        actor=actor,
        reason=reason,
    )


@_stock_transaction
def stock_commit_sale(*, reference: str, actor: Any = None, reason: str = "sold") -> list[Reservation]:
    """Turn every active reservation of `reference` into a sale: units leave on-hand (idempotent).

    Returns the reservations sold by this call: empty when none was active (already sold, released
    or expired) — the caller decides what an empty result means for its order.
    """
    return _close_reservations(
        reference=reference,
        status=Reservation.Status.COMMITTED,
        kind=StockMovement.Kind.SALE,
        actor=actor,
        reason=reason,
    )


@_stock_transaction
def _release_expired_for(*, reference: str, now: datetime) -> list[Reservation]:
    return _close_reservations(
        reference=reference,
        status=Reservation.Status.RELEASED,
        kind=StockMovement.Kind.RELEASE,
        actor=None,
        reason="reservation expired",
        expired_before=now,
    )


def reservations_release_expired(*, now: datetime | None = None, limit: int = 1000) -> int:
    """Release reservations past their expiry; returns how many references had units released.

    One transaction per reference, so one failure does not hold back the others; a reservation sold
    or released meanwhile is skipped (the status is re-checked under the row lock).
    """
    now = now or timezone.now()
    references = list(
        Reservation.objects.filter(status=Reservation.Status.ACTIVE, expires_at__lte=now)
        .order_by("reference")
        .values_list("reference", flat=True)
        .distinct()[:limit]
    )
    released = 0
    for reference in references:
        try:
            if _release_expired_for(reference=reference, now=now):
                released += 1
        except Exception:  # keep releasing the others; the next beat run retries this one
            logger.exception("reservation_release_failed", extra={"reference": reference})
    return released
