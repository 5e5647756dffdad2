"""Pins and experiments: every change orphans the cached mixes (new cache version) after commit."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from apps.catalog.models import Category, Product
from apps.exposure.models import ExposureContext, ExposureExperiment, ExposurePin
from shop.exceptions import ValidationFailed

from .cache import exposure_cache_invalidate

MAX_PIN_POSITION = 50


def _check_pin(pin: ExposurePin) -> None:
    errors: dict[str, list[str]] = {}
    if pin.context == ExposureContext.CATEGORY and pin.category_id is None:
        errors["category"] = ["Required for the category context."]
    if pin.context != ExposureContext.CATEGORY and pin.category_id is not None:
        errors["category"] = ["Only category pins name a category."]
    if not 1 <= pin.position <= MAX_PIN_POSITION:
        errors["position"] = [f"Must be between 1 and {MAX_PIN_POSITION}."]
    if pin.starts_at and pin.ends_at and pin.ends_at <= pin.starts_at:
        errors["ends_at"] = ["Must be after starts_at."]
    if errors:
        raise ValidationFailed(details=errors)


@transaction.atomic
def pin_create(
    *,
    product: Product,
    context: str,
    position: int,
    category: Category | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    actor: Any = None,
) -> ExposurePin:
    """Pin a product to a position of a context (and category page) for an optional schedule."""
    pin = ExposurePin(
        product=product,
        context=context,
        category=category,
        position=position,
        starts_at=starts_at,
        ends_at=ends_at,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    return pin_save(pin=pin)


@transaction.atomic
def pin_save(*, pin: ExposurePin) -> ExposurePin:
    """Validate and save a pin (admin form or API) and invalidate the exposure cache."""
    _check_pin(pin)
    try:
        pin.full_clean()
    except ValidationError as exc:
        raise ValidationFailed(details=exc.message_dict) from exc
    pin.save()
    transaction.on_commit(exposure_cache_invalidate)
    return pin


@transaction.atomic
def pin_delete(*, pin: ExposurePin) -> None:
    """Remove a pin and invalidate the exposure cache."""
    pin.delete()
    transaction.on_commit(exposure_cache_invalidate)


@transaction.atomic
def experiment_changed(*, experiment: ExposureExperiment | None = None) -> None:
    """Record that an experiment or its variants changed: cohorts and weights apply from the next mix."""
    transaction.on_commit(exposure_cache_invalidate)
