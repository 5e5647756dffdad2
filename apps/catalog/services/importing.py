"""CSV import of the catalog (one row per variant) and of stock counts.

The admin (django-import-export, row by row) and `manage.py catalog_import` (batched, for large
files) share this code, so a file gives the same result and the same row errors either way.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.text import slugify

from shop.exceptions import ApplicationError, ValidationFailed

from ..cache import catalog_cache_bump
from ..models import Brand, Category, Product, Variant
from .search import product_search_reindex
from .slugs import unique_slug
from .taxonomy import brand_create, category_create

CATALOG_COLUMNS = [
    "sku",
    "product",
    "product_slug",
    "category",
    "brand",
    "variant_name",
    "price",
    "cost",
    "barcode",
    "active",
]
REQUIRED_CATALOG_COLUMNS = {"sku", "product", "category", "price"}
STOCK_COLUMNS = ["sku", "location", "on_hand"]
_TRUE = {"1", "true", "yes", "y", "t", "si", "sí"}
_FALSE = {"0", "false", "no", "n", "f", ""}


@dataclass
class RowError:
    line: int
    errors: dict[str, list[str]]


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def processed(self) -> int:
        return self.created + self.updated + self.skipped + len(self.errors)


@dataclass
class CatalogRow:
    sku: str
    product: str
    product_slug: str
    category: str
    brand: str
    variant_name: str
    price: Decimal
    cost: Decimal | None
    barcode: str
    active: bool


def _text(row: dict[str, Any], key: str) -> str:
    value = row.get(key)
    return "" if value is None else str(value).strip()


def _money(raw: str, errors: dict[str, list[str]], key: str, *, required: bool) -> Decimal | None:
    if not raw:
        if required:
            errors[key] = ["This field is required."]
        return None
    try:
        value = Decimal(raw.replace(",", ".") if raw.count(",") == 1 and "." not in raw else raw)
    except InvalidOperation:
        errors[key] = [f"'{raw}' is not a number."]
        return None
    if not value.is_finite() or value < 0:
        errors[key] = ["Ensure this value is greater than or equal to 0."]
        return None
    if value.as_tuple().exponent < -2 or abs(value) >= Decimal("1e10"):
        errors[key] = ["Use at most 10 digits before and 2 after the decimal point."]
        return None
    return value


def _flag(raw: str, errors: dict[str, list[str]], key: str, default: bool) -> bool:
    low = raw.lower()
    if low == "":
        return default
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    errors[key] = [f"'{raw}' is not a yes/no value."]
    return default


def parse_catalog_row(row: dict[str, Any]) -> CatalogRow:
    """Validate one CSV row; raises ValidationFailed with errors keyed by column."""
    errors: dict[str, list[str]] = {}
    values = {key: _text(row, key) for key in CATALOG_COLUMNS}
    for key in ("sku", "product", "category"):
        if not values[key]:
            errors[key] = ["This field is required."]
    for key, limit in (("sku", 64), ("product", 200), ("variant_name", 200), ("barcode", 64), ("brand", 120)):
        if len(values[key]) > limit:
            errors[key] = [f"At most {limit} characters."]
    price = _money(values["price"], errors, "price", required=True)
    cost = _money(values["cost"], errors, "cost", required=False)
    active = _flag(values["active"], errors, "active", default=True)
    if errors:
        raise ValidationFailed(details=errors)
    return CatalogRow(
        sku=values["sku"],
        product=values["product"],
        product_slug=values["product_slug"],
        category=values["category"],
        brand=values["brand"],
        variant_name=values["variant_name"],
        price=price,  # type: ignore[arg-type]
        cost=cost,
        barcode=values["barcode"],
        active=active,
    )


class CatalogImporter:
    """Upserts variant rows in batches: a few queries per batch, whatever its size.

    An existing SKU updates its variant and its product; a new SKU joins the product named by
    `product_slug`, else the product with the same name created earlier in this import, else a new
    product. Categories are matched by slug, then by name (created at the top level if unknown);
    brands by name (created if unknown).
    """

    def __init__(self) -> None:
        self.categories: dict[str, int] = {}
        for pk, slug, name in Category.objects.values_list("pk", "slug", "name"):
            self.categories.setdefault(name.lower(), pk)
            self.categories[slug.lower()] = pk
        self.brands = {name.lower(): pk for pk, name in Brand.objects.values_list("pk", "name")}
        self.new_products: dict[str, Product] = {}  # by name, for rows of the same new product
        self.new_by_slug: dict[str, Product] = {}

    def _category_id(self, key: str) -> int:
        pk = self.categories.get(key.lower())
        if pk is None:
            pk = category_create(name=key).pk
            self.categories[key.lower()] = pk
        return pk

    def _brand_id(self, name: str) -> int | None:
        if not name:
            return None
        pk = self.brands.get(name.lower())
        if pk is None:
            pk = brand_create(name=name).pk
            self.brands[name.lower()] = pk
        return pk

    def import_batch(self, lines: list[tuple[int, dict[str, Any]]], report: ImportReport) -> list[int]:
        """Import (line number, row) pairs; bad rows go to `report.errors`. Returns the good lines."""
        parsed: list[tuple[int, CatalogRow]] = []
        for line, row in lines:
            try:
                parsed.append((line, parse_catalog_row(row)))
            except ValidationFailed as exc:
                report.errors.append(RowError(line, exc.details))
        if not parsed:
            return []
        existing = {
            v.sku: v
            for v in Variant.objects.select_related("product").filter(sku__in=[r.sku for _, r in parsed])
        }
        by_slug = {
            p.slug: p
            for p in Product.objects.filter(slug__in={r.product_slug for _, r in parsed if r.product_slug})
        }
        new_variants: dict[str, Variant] = {}
        changed_variants: dict[int, Variant] = {}
        changed_products: dict[int, Product] = {}
        created_products: list[Product] = []
        new_sku_products: set[int] = set()
        ok: list[int] = []
        for line, r in parsed:
            try:
                category_id = self._category_id(r.category)
                brand_id = self._brand_id(r.brand)
            except ApplicationError as exc:
                report.errors.append(RowError(line, exc.details or {"category": [exc.message]}))
                continue
            variant = existing.get(r.sku) or new_variants.get(r.sku)
            if variant is not None and variant.pk is not None:
                # Only rows that change something are written (re-importing a file is cheap).
                product = variant.product
                product_values = (r.product, category_id, brand_id)
                changed = False
                if (product.name, product.category_id, product.brand_id) != product_values:
                    product.name, product.category_id, product.brand_id = product_values
                    changed_products[product.pk] = product
                    changed = True
                variant_values = (r.variant_name, r.price, r.cost, r.barcode, r.active)
                if (
                    variant.name,
                    variant.price,
                    variant.cost,
                    variant.barcode,
                    variant.is_active,
                ) != variant_values:
                    changed_variants[variant.pk] = variant
                    changed = True
                if changed:
                    report.updated += 1
                else:
                    report.skipped += 1
            elif variant is not None:  # the same new SKU twice in one batch: the last row wins
                product = variant.product
                report.updated += 1
            else:
                if r.product_slug:
                    product = by_slug.get(r.product_slug) or self.new_by_slug.get(r.product_slug)
                    if product is None:
                        report.errors.append(
                            RowError(line, {"product_slug": [f"Unknown product {r.product_slug}."]})
                        )
                        continue
                else:
                    product = self.new_products.get(r.product)
                if product is None:
                    product = Product(name=r.product, category_id=category_id, brand_id=brand_id)
                    product.first_sku = r.sku  # type: ignore[attr-defined]
                    created_products.append(product)
                    self.new_products[r.product] = product
                elif product.pk is not None:
                    new_sku_products.add(product.pk)  # its search vector gains a SKU
                variant = Variant(product=product, sku=r.sku)
                new_variants[r.sku] = variant
                report.created += 1
            variant.name, variant.price, variant.cost = r.variant_name, r.price, r.cost
            variant.barcode, variant.is_active = r.barcode, r.active
            ok.append(line)

        self._assign_slugs(created_products)
        Product.objects.bulk_create(created_products)
        for product in created_products:
            self.new_by_slug[product.slug] = product
        for variant in new_variants.values():
            variant.product_id = variant.product.pk
        Variant.objects.bulk_create(list(new_variants.values()))
        _bulk_update(
            Variant, list(changed_variants.values()), ["name", "price", "cost", "barcode", "is_active"]
        )
        _bulk_update(
            Product, list(changed_products.values()), ["name", "category_id", "brand_id", "updated_at"]
        )
        touched = {p.pk for p in created_products} | set(changed_products) | new_sku_products
        touched |= {v.product_id for v in new_variants.values()}
        product_search_reindex(product_ids=touched)
        return ok

    @staticmethod
    def _assign_slugs(products: list[Product]) -> None:
        """Slug from the name; if taken, name + first SKU; if still taken, the numbered fallback."""
        candidates = []
        for product in products:
            base = (slugify(product.name) or "item")[:200].strip("-") or "item"
            candidates.append((product, [base, f"{base}-{slugify(product.first_sku)}"[:220]]))
        wanted = {slug for _, options in candidates for slug in options}
        taken = set(Product.objects.filter(slug__in=wanted).values_list("slug", flat=True))
        for product, options in candidates:
            slug = next((s for s in options if s not in taken), None)
            if slug is None:
                slug = unique_slug(Product, product.name, max_length=220)
                while slug in taken:  # numbered slugs handed out earlier in this batch
                    slug = re.sub(r"-(\d+)$", lambda m: f"-{int(m.group(1)) + 1}", slug)
            taken.add(slug)
            product.slug = slug


def _bulk_update(model: type, objs: list, columns: list[str], batch_size: int = 1000) -> None:
    """UPDATE … FROM (VALUES …) on PostgreSQL: ~20× faster than bulk_update's CASE WHEN per column."""
    if not objs:
        return
    if "updated_at" in columns:
        now = timezone.now()
        for obj in objs:
            obj.updated_at = now
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, [c.removesuffix("_id") if c.endswith("_id") else c for c in columns])
        return
    table = model._meta.db_table
    types = [
        model._meta.get_field(c.removesuffix("_id") if c.endswith("_id") else c).db_type(connection)
        for c in columns
    ]
    casts = ", ".join(["%s::bigint", *(f"%s::{t.replace('serial', 'int')}" for t in types)])
    assignments = ", ".join(f'"{c}" = d."{c}"' for c in columns)
    names = ", ".join(['"id"', *(f'"{c}"' for c in columns)])
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            chunk = objs[start : start + batch_size]
            values = ", ".join([f"({casts})"] * len(chunk))
            params = [v for obj in chunk for v in (obj.pk, *(getattr(obj, c) for c in columns))]
            sql = f'UPDATE "{table}" AS t SET {assignments} FROM (VALUES {values}) AS d({names})'
            sql += " WHERE t.id = d.id"
            cursor.execute(sql, params)


def _chunks(rows: Iterable[tuple[int, dict]], size: int) -> Iterator[list[tuple[int, dict]]]:
    it = iter(rows)
    while batch := list(islice(it, size)):
        yield batch


def _numbered(rows: Iterable[dict[str, Any]]) -> Iterator[tuple[int, dict[str, Any]]]:
    # Line 1 of the file is the header, so data rows start at line 2.
    return ((i, row) for i, row in enumerate(rows, start=2))


def catalog_import(
    *,
    rows: Iterable[dict[str, Any]],
    dry_run: bool = False,
    batch_size: int = 1000,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import catalog rows (one per variant) in batches; a dry run validates and rolls everything back."""
    report = ImportReport()
    with transaction.atomic():
        importer = CatalogImporter()
        for batch in _chunks(_numbered(rows), batch_size):
            try:
                with transaction.atomic():
                    importer.import_batch(batch, report)
            except IntegrityError as exc:  # a concurrent writer took a SKU or slug: report the batch
                for line, _ in batch:
                    report.errors.append(RowError(line, {"sku": [f"Database rejected the batch: {exc}"]}))
            if progress:
                progress(len(batch))
        if dry_run:
            transaction.set_rollback(True)
    return report


def _stock_services() -> Any:
    return import_string(settings.CATALOG_STOCK_SERVICES)


def _stock_models() -> tuple[type, type]:
    stock_level = Variant._meta.get_field("stock_levels").related_model
    return stock_level, stock_level._meta.get_field("location").related_model


class StockImporter:
    """Sets counted on-hand quantities through the inventory services (the ledger stays true).

    A level that does not exist yet is received (`receive` movement); an existing one is corrected by
    the difference (`adjust`); an unchanged count is skipped.
    """

    def __init__(self, *, actor: Any = None, reason: str = "CSV stock import") -> None:
        stock_level, location = _stock_models()
        self.stock_level_model = stock_level
        self.locations = {code.lower(): pk for pk, code in location.objects.values_list("pk", "code")}
        self.default_location = location.objects.filter(is_default=True).values_list("pk", flat=True).first()
        self.actor, self.reason = actor, reason
        self.services = _stock_services()

    def import_row(self, line: int, row: dict[str, Any], report: ImportReport) -> Any:
        """Apply one stock row; raises ValidationFailed (or InsufficientStock) for a bad row."""
        errors: dict[str, list[str]] = {}
        sku, code, raw = _text(row, "sku"), _text(row, "location"), _text(row, "on_hand")
        variant_id = Variant.objects.filter(sku=sku).values_list("pk", flat=True).first() if sku else None
        if variant_id is None:
            errors["sku"] = [f"Unknown SKU {sku}." if sku else "This field is required."]
        location_id = self.locations.get(code.lower()) if code else self.default_location
        if location_id is None:
            errors["location"] = [f"Unknown location {code}."]
        try:
            on_hand = int(raw)
            if on_hand < 0:
                errors["on_hand"] = ["Ensure this value is greater than or equal to 0."]
        except ValueError:
            errors["on_hand"] = [f"'{raw}' is not a whole number."]
        if errors:
            raise ValidationFailed(details=errors)
        level = (
            self.stock_level_model.objects.filter(variant_id=variant_id, location_id=location_id)
            .values_list("on_hand", flat=True)
            .first()
        )
        kwargs = {"variant_id": variant_id, "location_id": location_id, "actor": self.actor}
        if level is None:
            if on_hand == 0:
                report.skipped += 1
                return None
            report.created += 1
            return self.services.stock_receive(quantity=on_hand, reason=self.reason, **kwargs)
        if on_hand == level:
            report.skipped += 1
            return None
        report.updated += 1
        return self.services.stock_adjust(quantity=on_hand - level, reason=self.reason, **kwargs)


def stock_import(
    *,
    rows: Iterable[dict[str, Any]],
    dry_run: bool = False,
    batch_size: int = 500,
    actor: Any = None,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Import counted stock (sku, location code, on_hand) through the inventory services."""
    report = ImportReport()
    with transaction.atomic():
        catalog_cache_bump()  # availability changes
        importer = StockImporter(actor=actor)
        for batch in _chunks(_numbered(rows), batch_size):
            for line, row in batch:
                try:
                    with transaction.atomic():
                        importer.import_row(line, row, report)
                except ValidationFailed as exc:
                    report.errors.append(RowError(line, exc.details))
                except ApplicationError as exc:  # e.g. insufficient_stock: below what is reserved
                    report.errors.append(RowError(line, {"on_hand": [exc.message]}))
            if progress:
                progress(len(batch))
        if dry_run:
            transaction.set_rollback(True)
    return report
