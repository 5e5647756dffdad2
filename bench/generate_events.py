"""Deterministic engagement events for benchmarks: 1M raw events over 50k products, loaded with COPY.

From a scenario module, inside `prepare(ctx)`:

    from bench.generate_events import generate
    generate(ctx, events=1_000_000, products=50_000)

It uses the catalog's first `products` products when the database has them; missing products come from
the catalog generator (bench/generate_catalog.py) when present, otherwise minimal product rows are
inserted here. Events: a skewed popularity (a few products get most of the traffic), 80 % views, 12 %
clicks, 6 % add-to-cart, 2 % purchases, spread over the last `days` days, 100k anonymous visitors, 5 %
of events carrying a home/category slot position. By hand, against a migrated database:

    DATABASE_URL=postgres://…/db .venv/bin/python bench/generate_events.py --events 1000000 --products 50000
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261122
COLUMNS = [
    "event_id",
    "type",
    "product_id",
    "customer_id",
    "anonymous_id",
    "occurred_at",
    "bucket_hour",
    "received_at",
    "placement",
    "position",
    "exposure_id",
    "experiment_variant",
]
# Cumulative shares of view / click / add_to_cart / purchase.
TYPE_CUTS = ((0.80, "view"), (0.92, "click"), (0.98, "add_to_cart"), (1.0, "purchase"))
PLACEMENTS = ("home", "category", "search", "product", "cart")


class _Ctx(Protocol):
    def sql(self, query: str, params: Any = None) -> list[tuple]: ...
    def copy(self, table: str, columns: list[str], rows: Any) -> int: ...
    def manage(self, *args: str, **kwargs: Any) -> str: ...


def ensure_products(ctx: _Ctx, products: int, *, seed: int = SEED) -> list[int]:
    """The ids of `products` catalog products, creating the missing ones."""
    ids = [row[0] for row in ctx.sql("SELECT id FROM catalog_product ORDER BY id LIMIT %s", [products])]
    missing = products - len(ids)
    if missing <= 0:
        return ids
    try:
        from bench import generate_catalog
    except ImportError:
        generate_catalog = None
    if generate_catalog is not None and hasattr(generate_catalog, "load"):
        generate_catalog.load(ctx, products=missing, seed=seed, reindex=False)
    else:
        _minimal_products(ctx, missing)
    return [row[0] for row in ctx.sql("SELECT id FROM catalog_product ORDER BY id LIMIT %s", [products])]


def _minimal_products(ctx: _Ctx, count: int) -> None:
    """Products with one category and no variants: enough for events, not for a storefront."""
    now = datetime.now(UTC)
    tag = uuid.uuid4().hex[:8]
    (category_id,) = ctx.sql(
        "INSERT INTO catalog_category (name, slug, created_at) VALUES (%s, %s, %s) RETURNING id",
        [f"Bench events {tag}", f"bench-events-{tag}", now],
    )[0]
    ctx.copy(
        "catalog_product",
        ["name", "slug", "description", "category_id", "is_active", "created_at", "updated_at"],
        ((f"Bench product {n}", f"bench-{tag}-{n}", "", category_id, True, now, now) for n in range(count)),
    )


def event_rows(
    product_ids: list[int], count: int, *, now: datetime, days: int = 7, seed: int = SEED
) -> Iterator[tuple]:
    """`count` raw event rows (COLUMNS order), deterministic for a given seed and `now`."""
    rng = random.Random(seed)
    n = len(product_ids)
    span = days * 86_400
    for _ in range(count):
        # rng.random() ** 3 concentrates traffic on the first products: a long tail like real stores.
        product_id = product_ids[int(n * rng.random() ** 3)]
        pick = rng.random()
        kind = next(name for cut, name in TYPE_CUTS if pick < cut)
        occurred = now - timedelta(seconds=rng.random() * span)
        slotted = rng.random() < 0.05
        yield (
            uuid.UUID(int=rng.getrandbits(128), version=4),
            kind,
            product_id,
            None,
            f"anon-{rng.randint(1, 100_000)}",
            occurred,
            occurred.replace(minute=0, second=0, microsecond=0),
            occurred + timedelta(seconds=rng.random() * 5),
            rng.choice(PLACEMENTS[:2]) if slotted else rng.choice(PLACEMENTS),
            rng.randint(0, 11) if slotted else None,
            None,
            "",
        )


def generate(
    ctx: _Ctx,
    *,
    events: int = 1_000_000,
    products: int = 50_000,
    days: int = 7,
    seed: int = SEED,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Load `events` events over `products` products (created if missing) with COPY; return a summary."""
    started = time.perf_counter()
    product_ids = ensure_products(ctx, products, seed=seed)
    now = now or datetime.now(UTC)
    # Same seed on a fresh database; a different stream (no event_id clash) when events already exist.
    (offset,) = ctx.sql("SELECT coalesce(max(id), 0) FROM engagement_event")[0]
    rows = event_rows(product_ids, events, now=now, days=days, seed=seed + offset)
    loaded = ctx.copy("engagement_event", COLUMNS, rows)
    ctx.sql("ANALYZE engagement_event")
    return {
        "events": loaded,
        "products": len(product_ids),
        "product_min": min(product_ids),
        "product_max": max(product_ids),
        "seconds": round(time.perf_counter() - started, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    args = parser.parse_args()
    if not args.database_url:
        parser.error("set DATABASE_URL or --database-url (a migrated PostgreSQL database)")
    sys.path.insert(0, str(ROOT))
    from bench.generate_catalog import _LocalCtx

    ctx = _LocalCtx(args.database_url)
    result = generate(ctx, events=args.events, products=args.products, days=args.days)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
