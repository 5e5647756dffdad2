"""Stock locations (stores and warehouses)."""

from typing import Any

from django.db import IntegrityError, transaction

from shop.exceptions import ValidationFailed

from ..models import Location

_EDITABLE = ("code", "name", "kind", "address", "is_sellable")


def _check_kind(kind: str) -> str:
    if kind not in Location.Kind.values:
        raise ValidationFailed(details={"kind": [f"Must be one of {', '.join(Location.Kind.values)}."]})
    return kind


def _duplicate_code(code: str) -> ValidationFailed:
    return ValidationFailed(details={"code": [f"A location with code {code!r} already exists."]})


@transaction.atomic
def location_create(
    *,
    code: str,
    name: str,
    kind: str = Location.Kind.STORE,
    address: str = "",
    is_sellable: bool = True,
    is_default: bool = False,
) -> Location:
    """Create a store or warehouse; optionally make it the default location."""
    _check_kind(kind)
    if Location.objects.filter(code=code).exists():
        raise _duplicate_code(code)
    try:
        with transaction.atomic():
            location = Location.objects.create(
                code=code, name=name, kind=kind, address=address or "", is_sellable=is_sellable
            )
    except IntegrityError as exc:  # a concurrent create with the same code
        raise _duplicate_code(code) from exc
    if is_default:
        location_set_default(location=location)
    return location


@transaction.atomic
def location_update(*, location: Location, is_default: bool | None = None, **changes: Any) -> Location:
    """Change a location's fields; `is_default=True` moves the default here (it cannot be unset)."""
    unknown = set(changes) - set(_EDITABLE)
    if unknown:
        raise ValidationFailed(details={field: ["Cannot be changed."] for field in sorted(unknown)})
    if "kind" in changes:
        _check_kind(changes["kind"])
    if "code" in changes and Location.objects.filter(code=changes["code"]).exclude(pk=location.pk).exists():
        raise _duplicate_code(changes["code"])
    if is_default is False and location.is_default:
        raise ValidationFailed(
            details={"is_default": ["Make another location the default instead of unsetting it."]}
        )
    for field, value in changes.items():
        setattr(location, field, value)
    if changes:
        try:
            with transaction.atomic():
                location.save(update_fields=list(changes))
        except IntegrityError as exc:
            raise _duplicate_code(changes.get("code", location.code)) from exc
    if is_default:
        location_set_default(location=location)
    return location


@transaction.atomic
def location_set_default(*, location: Location) -> Location:
    """Make `location` the default (the one receipts go to when none is named)."""
    # Lock the current default so two concurrent switches serialise instead of hitting the
    # one-default unique index.
    current = list(Location.objects.select_for_update().filter(is_default=True).exclude(pk=location.pk))
    if current:
        Location.objects.filter(pk__in=[loc.pk for loc in current]).update(is_default=False)
    if not location.is_default:
        Location.objects.filter(pk=location.pk).update(is_default=True)
        location.is_default = True
    return location
