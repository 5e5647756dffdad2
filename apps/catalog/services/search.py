"""Full-text search vectors (PostgreSQL). On other databases these are no-ops: search uses icontains."""

from collections.abc import Callable, Iterable

from django.conf import settings
from django.db import connection

from ..cache import catalog_cache_bump
from ..models import Brand, Product, Variant

# One statement per batch: name, brand and SKUs weigh A, the description B. SKUs are indexed as
# written and with punctuation turned into spaces, so "SKU-000123", "sku 000123" and "000123" match.
_REINDEX_SQL = f"""
UPDATE {Product._meta.db_table} AS p SET search_vector =
    setweight(to_tsvector(%(config)s::regconfig, p.name), 'A')
    || setweight(to_tsvector(%(config)s::regconfig, coalesce((
        SELECT b.name FROM {Brand._meta.db_table} b WHERE b.id = p.brand_id
    ), '')), 'A')
    || setweight(to_tsvector(%(config)s::regconfig, coalesce((
        SELECT string_agg(v.sku || ' ' || regexp_replace(v.sku, '[^[:alnum:]]+', ' ', 'g'), ' ')
        FROM {Variant._meta.db_table} v WHERE v.product_id = p.id
    ), '')), 'A')
    || setweight(to_tsvector(%(config)s::regconfig, p.description), 'B')
WHERE p.id BETWEEN %(low)s AND %(high)s {{extra}}
"""


def _supported() -> bool:
    return connection.vendor == "postgresql"


def product_search_reindex(*, product_ids: Iterable[int]) -> int:
    """Recompute the search vector of the given products; returns rows updated (0 off PostgreSQL)."""
    ids = sorted(set(product_ids))
    if ids:
        catalog_cache_bump()  # every product write ends here, the admin's included
    if not ids or not _supported():
        return 0
    sql = _REINDEX_SQL.format(extra="AND p.id = ANY(%(ids)s)")
    with connection.cursor() as cursor:
        cursor.execute(
            sql, {"config": settings.CATALOG_SEARCH_CONFIG, "low": ids[0], "high": ids[-1], "ids": ids}
        )
        return cursor.rowcount


def product_search_reindex_all(
    *, batch_size: int = 5000, progress: Callable[[int], None] | None = None
) -> int:
    """Recompute every product's search vector in id-range batches (bulk loads, config changes)."""
    if not _supported():
        return 0
    bounds = Product.objects.order_by().values_list("pk", flat=True)
    low, high = bounds.order_by("pk").first(), bounds.order_by("-pk").first()
    if low is None:
        return 0
    sql = _REINDEX_SQL.format(extra="")
    done = 0
    with connection.cursor() as cursor:
        for start in range(low, high + 1, batch_size):
            cursor.execute(
                sql,
                {"config": settings.CATALOG_SEARCH_CONFIG, "low": start, "high": start + batch_size - 1},
            )
            done += cursor.rowcount
            if progress:
                progress(cursor.rowcount)
    return done
