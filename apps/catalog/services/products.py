"""Products and their variants."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError, RestrictedError

from shop.exceptions import ValidationFailed

from ..cache import catalog_cache_bump
from ..models import Brand, Category, Product, ProductImage, Variant
from .search import product_search_reindex
from .slugs import unique_slug

UNSET: Any = object()


@dataclass
class VariantInput:
    sku: str
    price: Decimal
    name: str = ""
    cost: Decimal | None = None
    barcode: str = ""
    attributes: dict = field(default_factory=dict)
    is_active: bool = True


def _check_category(category_id: int) -> None:
    if not Category.objects.filter(pk=category_id).exists():
        raise ValidationFailed(details={"category": [f"Unknown category {category_id}."]})


def _check_brand(brand_id: int | None) -> None:
    if brand_id is not None and not Brand.objects.filter(pk=brand_id).exists():
        raise ValidationFailed(details={"brand": [f"Unknown brand {brand_id}."]})


def _check_variants(variants: Sequence[VariantInput], *, own_skus: Iterable[str] = ()) -> None:
    """Per-variant errors aligned with the input list (DRF style): `{"variants": [{}, {"sku": [...]}]}`."""
    errors: list[dict[str, list[str]]] = [{} for _ in variants]
    seen: set[str] = set()
    skus = [v.sku.strip() for v in variants]
    taken = set(
        Variant.objects.filter(sku__in=skus).exclude(sku__in=list(own_skus)).values_list("sku", flat=True)
    )
    for i, (variant, sku) in enumerate(zip(variants, skus, strict=True)):
        if not sku:
            errors[i]["sku"] = ["This field may not be blank."]
        elif sku in seen:
            errors[i]["sku"] = [f"SKU {sku} appears twice."]
        elif sku in taken:
            errors[i]["sku"] = [f"A variant with SKU {sku} already exists."]
        seen.add(sku)
        if variant.price is None or variant.price < 0:
            errors[i]["price"] = ["Ensure this value is greater than or equal to 0."]
        if variant.cost is not None and variant.cost < 0:
            errors[i]["cost"] = ["Ensure this value is greater than or equal to 0."]
    if any(errors):
        raise ValidationFailed(details={"variants": errors})


def _sku_race() -> ValidationFailed:
    return ValidationFailed(details={"variants": ["A variant with one of these SKUs already exists."]})


def _new_variant(product: Product, data: VariantInput) -> Variant:
    return Variant(
        product=product,
        sku=data.sku.strip(),
        name=data.name,
        price=data.price,
        cost=data.cost,
        barcode=data.barcode,
        attributes=data.attributes or {},
        is_active=data.is_active,
    )


@transaction.atomic
def product_create(
    *,
    name: str,
    category_id: int,
    variants: Sequence[VariantInput],
    description: str = "",
    brand_id: int | None = None,
    is_active: bool = True,
) -> Product:
    """Create a product with at least one variant; the slug comes from the name and is unique."""
    name = name.strip()
    if not name:
        raise ValidationFailed(details={"name": ["This field may not be blank."]})
    if not variants:
        raise ValidationFailed(details={"variants": ["A product needs at least one variant."]})
    _check_category(category_id)
    _check_brand(brand_id)
    _check_variants(variants)
    product = Product(
        name=name,
        slug=unique_slug(Product, name, max_length=220),
        description=description,
        category_id=category_id,
        brand_id=brand_id,
        is_active=is_active,
    )
    try:
        with transaction.atomic():
            product.save()
            Variant.objects.bulk_create([_new_variant(product, v) for v in variants])
    except IntegrityError:  # a concurrent writer took a SKU (or the slug) between check and insert
        raise _sku_race()
    product_search_reindex(product_ids=[product.pk])
    return product


@transaction.atomic
def product_update(
    *,
    product: Product,
    name: str = UNSET,
    description: str = UNSET,
    category_id: int = UNSET,
    brand_id: int | None = UNSET,
    is_active: bool = UNSET,
    variants: Sequence[VariantInput] = UNSET,
) -> Product:
    """Change a product; `variants` are upserted by SKU (new SKUs added, listed ones updated).

    The slug does not change on rename: storefront URLs stay stable.
    """
    if name is not UNSET:
        if not name.strip():
            raise ValidationFailed(details={"name": ["This field may not be blank."]})
        product.name = name.strip()
    if description is not UNSET:
        product.description = description
    if category_id is not UNSET:
        _check_category(category_id)
        product.category_id = category_id
    if brand_id is not UNSET:
        _check_brand(brand_id)
        product.brand_id = brand_id
    if is_active is not UNSET:
        product.is_active = is_active
    product.save()
    if variants is not UNSET:
        if not variants:
            raise ValidationFailed(details={"variants": ["Give at least one variant to change."]})
        own = {v.sku: v for v in product.variants.all()}
        _check_variants(variants, own_skus=own)
        try:
            with transaction.atomic():
                for data in variants:
                    existing = own.get(data.sku.strip())
                    if existing is None:
                        _new_variant(product, data).save()
                    else:
                        _assign(existing, data)
                        existing.save()
        except IntegrityError:
            raise _sku_race()
    product_search_reindex(product_ids=[product.pk])
    return product


def _assign(variant: Variant, data: VariantInput) -> None:
    variant.name, variant.price, variant.cost = data.name, data.price, data.cost
    variant.barcode, variant.attributes, variant.is_active = (
        data.barcode,
        data.attributes or {},
        data.is_active,
    )


@transaction.atomic
def variant_create(*, product: Product, data: VariantInput) -> Variant:
    """Add a variant (a new SKU) to a product."""
    _check_variants([data])
    try:
        with transaction.atomic():
            variant = _new_variant(product, data)
            variant.save()
    except IntegrityError:
        raise _sku_race()
    product_search_reindex(product_ids=[product.pk])
    return variant


@transaction.atomic
def variant_update(*, variant: Variant, **changes: Any) -> Variant:
    """Change a variant's name, price, cost, barcode, attributes or active flag (SKU is its identity)."""
    allowed = {"name", "price", "cost", "barcode", "attributes", "is_active"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed(details={k: ["This field cannot be changed."] for k in sorted(unknown)})
    for key in ("price", "cost"):
        if changes.get(key) is not None and changes[key] < 0:
            raise ValidationFailed(details={key: ["Ensure this value is greater than or equal to 0."]})
    if "price" in changes and changes["price"] is None:
        raise ValidationFailed(details={"price": ["This field may not be null."]})
    for key, value in changes.items():
        setattr(variant, key, value)
    variant.save()
    catalog_cache_bump()
    return variant


@transaction.atomic
def product_delete(*, product: Product) -> bool:
    """Delete a product; one with history (stock, orders, …) is deactivated instead.

    Returns True when the row was deleted, False when it was only deactivated. Whatever references
    its variants with PROTECT/RESTRICT (stock levels and movements, order lines, supplier products)
    is history that must stay readable, so such a product is soft-deleted (`is_active=False`).
    """
    image_names = [name for name in product.images.values_list("image", flat=True) if name]
    catalog_cache_bump()
    try:
        with transaction.atomic():
            product.delete()
    except (ProtectedError, RestrictedError):
        product.is_active = False
        product.save(update_fields=["is_active", "updated_at"])
        return False
    storage = ProductImage._meta.get_field("image").storage
    transaction.on_commit(lambda: [storage.delete(name) for name in image_names])
    return True


@transaction.atomic
def product_activate(*, product_ids: Iterable[int]) -> int:
    """Make products visible in the storefront; returns how many changed."""
    catalog_cache_bump()
    return Product.objects.filter(pk__in=list(product_ids), is_active=False).update(is_active=True)


@transaction.atomic
def product_deactivate(*, product_ids: Iterable[int]) -> int:
    """Hide products from the storefront (history stays); returns how many changed."""
    catalog_cache_bump()
    return Product.objects.filter(pk__in=list(product_ids), is_active=True).update(is_active=False)
