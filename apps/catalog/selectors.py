"""Catalog reads: every list owns its query shape (annotations and prefetches), no N+1."""

from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db import connection
from django.db.models import (
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from shop.db import instance_from_row, loaded_fields, select_columns
from shop.exceptions import NotFound

from .models import Brand, Category, Product, ProductImage, Variant

PRODUCT_ORDERINGS = {
    "price": ("price", "-id"),
    "-price": ("-price", "-id"),
    "name": ("name", "id"),
    "-created_at": ("-created_at", "-id"),
}


def category_subtree_ids(*, category_id: int) -> list[int]:
    """Ids of a category and all its descendants (one recursive CTE, indexed on parent_id)."""
    table = Category._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE subtree(id) AS (
                SELECT id FROM {table} WHERE id = %s
                UNION ALL
                SELECT c.id FROM {table} c JOIN subtree s ON c.parent_id = s.id
            )
            SELECT id FROM subtree
            """,
            [category_id],
        )
        return [row[0] for row in cursor.fetchall()]


def category_list() -> QuerySet[Category]:
    """All categories, by name."""
    return Category.objects.order_by("name", "id")


def brand_list() -> QuerySet[Brand]:
    """All brands, by name."""
    return Brand.objects.order_by("name", "id")


def _stock_level_model():
    # Inventory (a later layer) owns StockLevel; reach it through the reverse relation it declares on
    # Variant instead of importing inventory code (DESIGN.md §3.6).
    return Variant._meta.get_field("stock_levels").related_model


def sellable_stock_subquery(variant_ref: str = "pk") -> Subquery:
    """Sellable units of one variant: on_hand - reserved summed over sellable locations."""
    levels = (
        _stock_level_model()
        .objects.filter(variant=OuterRef(variant_ref), location__is_sellable=True)
        .order_by()
        .values("variant")
        .annotate(units=Sum(F("on_hand") - F("reserved")))
        .values("units")
    )
    return Subquery(levels, output_field=IntegerField())


def in_stock_exists(product_ref: str = "pk") -> Exists:
    """EXISTS: the product has an active variant with sellable units at a sellable location."""
    return Exists(
        _stock_level_model().objects.filter(
            variant__product=OuterRef(product_ref),
            variant__is_active=True,
            location__is_sellable=True,
            on_hand__gt=F("reserved"),
        )
    )


def lowest_price_subquery() -> Subquery:
    """Lowest price among the product's active variants (NULL when it has none)."""
    prices = (
        Variant.objects.filter(product=OuterRef("pk"), is_active=True)
        .order_by()
        .values("product")
        .annotate(low=Min("price"))
        .values("low")
    )
    return Subquery(prices)


def variants_with_products(*, variant_ids: Sequence[int]) -> dict[int, Variant]:
    """Variants by id with their product loaded, like `select_related("product").in_bulk(ids)`.

    One hand-written statement (shop.db): checkout runs it for every order.
    """
    if not variant_ids:
        return {}
    placeholders = ", ".join(["%s"] * len(variant_ids))
    product_defer = ["search_vector"]  # the full-text document: large, and only search reads it
    sql = (
        f"SELECT {select_columns(Variant, 'v')}, {select_columns(Product, 'p', defer=product_defer)} "
        f"FROM {Variant._meta.db_table} v JOIN {Product._meta.db_table} p ON p.id = v.product_id "
        f"WHERE v.id IN ({placeholders})"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, list(variant_ids))
        rows = cursor.fetchall()
    width = len(loaded_fields(Variant))
    variants = {}
    for row in rows:
        variant = instance_from_row(Variant, row)
        variant.product = instance_from_row(Product, row, start=width, defer=product_defer)
        variants[variant.pk] = variant
    return variants


def variants_with_availability(*, include_inactive: bool = False) -> QuerySet[Variant]:
    """Variants annotated with `available` (sellable units)."""
    qs = Variant.objects.annotate(available=Coalesce(sellable_stock_subquery(), Value(0)))
    if not include_inactive:
        qs = qs.filter(is_active=True)
    return qs.order_by("price", "id")


def _with_details(qs: QuerySet[Product], *, include_inactive: bool) -> QuerySet[Product]:
    return qs.defer("search_vector").prefetch_related(
        Prefetch("variants", queryset=variants_with_availability(include_inactive=include_inactive)),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id")),
    )


def _search(qs: QuerySet[Product], term: str) -> tuple[QuerySet[Product], bool]:
    """Full-text match on PostgreSQL (ranked); icontains on name/description/SKU/brand elsewhere."""
    if connection.vendor == "postgresql":
        query = SearchQuery(term, search_type="websearch", config=settings.CATALOG_SEARCH_CONFIG)
        return qs.filter(search_vector=query).annotate(rank=SearchRank(F("search_vector"), query)), True
    sku_match = Exists(Variant.objects.filter(product=OuterRef("pk"), sku__icontains=term))
    return (
        qs.filter(
            Q(name__icontains=term)
            | Q(description__icontains=term)
            | Q(brand__name__icontains=term)
            | sku_match
        ),
        False,
    )


def product_list(
    *,
    search: str | None = None,
    category_id: int | None = None,
    brand_id: int | None = None,
    min_price: Decimal | None = None,
    max_price: Decimal | None = None,
    in_stock: bool = False,
    ordering: str | None = None,
    include_inactive: bool = False,
) -> QuerySet[Product]:
    """Products for the storefront (or staff), annotated with `price` and prefetched variants/images.

    `category` includes its sub-categories. Without an explicit ordering a search is ranked by
    relevance, otherwise newest first.
    """
    qs = Product.objects.annotate(price=lowest_price_subquery())
    if not include_inactive:
        qs = qs.filter(is_active=True)
    if category_id is not None:
        qs = qs.filter(category_id__in=category_subtree_ids(category_id=category_id))
    if brand_id is not None:
        qs = qs.filter(brand_id=brand_id)
    if min_price is not None:
        qs = qs.filter(price__gte=min_price)
    if max_price is not None:
        qs = qs.filter(price__lte=max_price)
    if in_stock:
        qs = qs.filter(in_stock_exists())
    ranked = False
    if search:
        qs, ranked = _search(qs, search)
    if ordering:
        qs = qs.order_by(*PRODUCT_ORDERINGS[ordering])
    elif ranked:
        qs = qs.order_by("-rank", "-created_at", "-id")
    else:
        qs = qs.order_by("-created_at", "-id")
    return _with_details(qs, include_inactive=include_inactive)


def product_get(*, product_id: int, include_inactive: bool = False) -> Product:
    """One product with its details; inactive ones are visible only with `include_inactive`."""
    qs = Product.objects.annotate(price=lowest_price_subquery()).filter(pk=product_id)
    if not include_inactive:
        qs = qs.filter(is_active=True)
    product = _with_details(qs, include_inactive=include_inactive).first()
    if product is None:
        raise NotFound("Product not found.")
    return product


def product_for_update(*, product_id: int) -> Product:
    """The product row to change (any status), or 404."""
    product = Product.objects.filter(pk=product_id).first()
    if product is None:
        raise NotFound("Product not found.")
    return product
