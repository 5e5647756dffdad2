"""Supplier and supplier-product writes."""

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from shop.exceptions import ValidationFailed

from ..models import Supplier, SupplierProduct

SUPPLIER_FIELDS: tuple[str, ...] = ("name", "tax_id", "email", "phone", "lead_time_days", "is_active")


def _unique_name(name: str, *, exclude_pk: int | None = None) -> None:
    qs = Supplier.objects.filter(name__iexact=name)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    if qs.exists():
        raise ValidationFailed(details={"name": ["A supplier with this name already exists."]})


@transaction.atomic
def supplier_create(
    *,
    name: str,
    tax_id: str = "",
    email: str = "",
    phone: str = "",
    lead_time_days: int = 7,
    is_active: bool = True,
) -> Supplier:
    """Create a supplier (names are unique, case-insensitively)."""
    name = name.strip()
    if not name:
        raise ValidationFailed(details={"name": ["This field may not be blank."]})
    _unique_name(name)
    try:
        with transaction.atomic():
            return Supplier.objects.create(
                name=name,
                tax_id=tax_id,
                email=email,
                phone=phone,
                lead_time_days=lead_time_days,
                is_active=is_active,
            )
    except IntegrityError:  # a concurrent create with the same name won
        raise ValidationFailed(details={"name": ["A supplier with this name already exists."]})


@transaction.atomic
def supplier_update(*, supplier: Supplier, data: dict[str, Any]) -> Supplier:
    """Change a supplier's contact and terms; unknown keys are refused."""
    unknown = set(data) - set(SUPPLIER_FIELDS)
    if unknown:
        raise ValidationFailed(details={key: ["Unknown field."] for key in sorted(unknown)})
    if "name" in data:
        data = {**data, "name": data["name"].strip()}
        if not data["name"]:
            raise ValidationFailed(details={"name": ["This field may not be blank."]})
        _unique_name(data["name"], exclude_pk=supplier.pk)
    for key, value in data.items():
        setattr(supplier, key, value)
    supplier.save(update_fields=[*data, "updated_at"])
    return supplier


@transaction.atomic
def supplier_product_set(
    *,
    supplier: Supplier,
    variant_id: int,
    unit_cost: Decimal,
    supplier_sku: str = "",
    min_order_qty: int = 1,
    lead_time_days: int | None = None,
    is_preferred: bool = False,
) -> SupplierProduct:
    """Create or update what a supplier sells for a variant; preferring it un-prefers any other."""
    if unit_cost < 0:
        raise ValidationFailed(details={"unit_cost": ["Must be zero or more."]})
    if min_order_qty < 1:
        raise ValidationFailed(details={"min_order_qty": ["Must be at least 1."]})
    if is_preferred:
        # Only one preferred supplier per variant (a partial unique constraint): move the flag.
        SupplierProduct.objects.filter(variant_id=variant_id, is_preferred=True).exclude(
            supplier=supplier
        ).update(is_preferred=False)
    product, _ = SupplierProduct.objects.update_or_create(
        supplier=supplier,
        variant_id=variant_id,
        defaults={
            "unit_cost": unit_cost,
            "supplier_sku": supplier_sku,
            "min_order_qty": min_order_qty,
            "lead_time_days": lead_time_days,
            "is_preferred": is_preferred,
        },
    )
    return product


@transaction.atomic
def supplier_product_remove(*, supplier_product: SupplierProduct) -> None:
    """Stop buying a variant from a supplier (past purchase orders keep their lines)."""
    SupplierProduct.objects.filter(pk=supplier_product.pk).delete()
