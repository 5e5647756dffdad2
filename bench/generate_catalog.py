"""Deterministic catalog for benchmarks: 100k products with variants, a category tree, brands, and
stock at two sellable locations — loaded with COPY in a few seconds.

From a scenario module: `generate_catalog.load(ctx, products=100_000)` inside `prepare(ctx)` (uses
`ctx.sql`, `ctx.copy`, `ctx.manage`). By hand, against a migrated database:

    DJANGO_SETTINGS_MODULE=config.settings.local DATABASE_URL=postgres://…/db \\
        .venv/bin/python bench/generate_catalog.py --products 100000

Ids, SKUs and slugs start after whatever the tables already hold, so other generators can load
products into the same database first. Stock gets a matching `receive` movement per level, so the
ledger equals the levels (`stock_reconcile` stays clean). Search vectors are built afterwards by
`manage.py catalog_reindex` — the same SQL the catalog services run.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parent.parent
SEED = 20261122

ADJECTIVES = [
    "organic",
    "classic",
    "premium",
    "fresh",
    "natural",
    "crunchy",
    "smooth",
    "dark",
    "light",
    "spicy",
    "sweet",
    "salted",
    "roasted",
    "wild",
    "golden",
    "creamy",
    "tropical",
    "andean",
    "artisan",
    "integral",
    "vegan",
    "family",
    "mini",
    "extra",
    "double",
]
NOUNS = [
    "chocolate",
    "coffee",
    "tea",
    "quinoa",
    "rice",
    "pasta",
    "cookies",
    "crackers",
    "yogurt",
    "cheese",
    "butter",
    "milk",
    "juice",
    "water",
    "soda",
    "beer",
    "wine",
    "olive-oil",
    "vinegar",
    "honey",
    "jam",
    "cereal",
    "granola",
    "oats",
    "flour",
    "sugar",
    "salt",
    "pepper",
    "chili",
    "sauce",
    "ketchup",
    "mayonnaise",
    "mustard",
    "tuna",
    "sardines",
    "beans",
    "lentils",
    "chickpeas",
    "corn",
    "potatoes",
    "chips",
    "popcorn",
    "nuts",
    "almonds",
    "peanuts",
    "raisins",
    "bread",
    "tortillas",
    "soap",
    "shampoo",
    "conditioner",
    "toothpaste",
    "detergent",
    "bleach",
    "sponges",
    "towels",
    "napkins",
    "diapers",
    "wipes",
    "candles",
    "batteries",
    "lightbulbs",
    "notebook",
    "pencils",
    "markers",
    "scissors",
    "tape",
    "glue",
    "t-shirt",
    "socks",
    "cap",
    "scarf",
    "gloves",
    "sneakers",
    "sandals",
    "backpack",
    "wallet",
    "umbrella",
    "mug",
    "plate",
    "bowl",
    "glass",
    "pan",
    "pot",
    "kettle",
    "blender",
    "toaster",
    "knife",
    "spoon",
    "fork",
]
SIZES = ["250 g", "500 g", "1 kg", "330 ml", "1 l", "2 l", "pack x6", "pack x12", "S", "M", "L", "XL"]
WORDS = [
    "smooth",
    "rich",
    "balanced",
    "bold",
    "fresh",
    "light",
    "crisp",
    "fine",
    "delicate",
    "intense",
    "aromatic",
    "hearty",
    "simple",
    "pure",
]


class _Ctx(Protocol):
    def sql(self, query: str, params: Any = None) -> list[tuple]: ...
    def copy(self, table: str, columns: list[str], rows: Any) -> int: ...
    def manage(self, *args: str, **kwargs: Any) -> str: ...


def _next_id(ctx: _Ctx, table: str) -> int:
    return int(ctx.sql(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")[0][0])


def _reset_sequence(ctx: _Ctx, table: str) -> None:
    ctx.sql(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))"
    )


def load(ctx: _Ctx, *, products: int = 100_000, seed: int = SEED, reindex: bool = True) -> dict[str, Any]:
    """Load the catalog; returns ids/terms the scenarios use (a root category, a search term, …)."""
    started = time.perf_counter()
    rng = random.Random(seed)
    now = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
    tag = f"b{_next_id(ctx, 'catalog_product')}"  # keeps slugs/SKUs unique if run twice

    # Category tree: 10 roots × 4 children × 5 grandchildren.
    cat_id = _next_id(ctx, "catalog_category")
    categories: list[tuple] = []
    roots, leaves = [], []
    for r in range(10):
        root = cat_id
        categories.append((root, f"Department {r}", f"{tag}-dept-{r}", None, now))
        roots.append(root)
        cat_id += 1
        for c in range(4):
            child = cat_id
            categories.append((child, f"Aisle {r}.{c}", f"{tag}-aisle-{r}-{c}", root, now))
            cat_id += 1
            for g in range(5):
                categories.append((cat_id, f"Shelf {r}.{c}.{g}", f"{tag}-shelf-{r}-{c}-{g}", child, now))
                leaves.append((root, cat_id))
                cat_id += 1
    ctx.copy("catalog_category", ["id", "name", "slug", "parent_id", "created_at"], categories)

    brand_id = _next_id(ctx, "catalog_brand")
    brands = [(brand_id + i, f"Brand {tag} {i}", f"{tag}-brand-{i}", now) for i in range(500)]
    ctx.copy("catalog_brand", ["id", "name", "slug", "created_at"], brands)

    location_ids = [row[0] for row in ctx.sql("SELECT id FROM inventory_location WHERE is_default")]
    store = ctx.sql(
        "INSERT INTO inventory_location (code, name, kind, address, is_sellable, is_default, created_at) "
        "VALUES (%s, 'Bench store', 'store', '', true, false, now()) ON CONFLICT (code) DO UPDATE "
        "SET is_sellable = true RETURNING id",
        [f"{tag}-STORE"],
    )
    location_ids.append(store[0][0])

    product_id = _next_id(ctx, "catalog_product")
    variant_id = _next_id(ctx, "catalog_variant")
    product_rows: list[tuple] = []
    variant_rows: list[tuple] = []
    level_rows: list[tuple] = []
    movement_rows: list[tuple] = []
    for i in range(products):
        pid = product_id + i
        root, leaf = leaves[rng.randrange(len(leaves))]
        adjective, noun = rng.choice(ADJECTIVES), rng.choice(NOUNS)
        name = f"{adjective.capitalize()} {noun.replace('-', ' ')} {i}"
        created = now - timedelta(seconds=rng.randrange(365 * 86400))
        description = f"{rng.choice(WORDS).capitalize()} and {rng.choice(WORDS)} {noun.replace('-', ' ')}."
        product_rows.append(
            (pid, name, f"{tag}-p{i}", description, leaf, brand_id + rng.randrange(500),
             rng.random() > 0.03, created, created)
        )  # fmt: skip
        base_price = Decimal(rng.randrange(150, 50_000)) / 100
        for v in range(rng.choice((1, 2, 2, 3))):
            vid = variant_id
            variant_id += 1
            price = base_price + v * Decimal("2.50")
            variant_rows.append(
                (vid, pid, f"{tag.upper()}-{i:06d}-{v}", rng.choice(SIZES), price,
                 (price * Decimal("0.6")).quantize(Decimal("0.01")), f"775{vid:010d}", "{}", True, created)
            )  # fmt: skip
            for location_id in location_ids:
                if rng.random() < 0.7:
                    on_hand = rng.randrange(1, 200)
                    level_rows.append((vid, location_id, on_hand, 0, 5, 50, created))
                    movement_rows.append(
                        (vid, location_id, "receive", on_hand, on_hand, 0, on_hand, 0,
                         "bench initial stock", "bench", created)
                    )  # fmt: skip

    ctx.copy(
        "catalog_product",
        [
            "id",
            "name",
            "slug",
            "description",
            "category_id",
            "brand_id",
            "is_active",
            "created_at",
            "updated_at",
        ],
        product_rows,
    )
    ctx.copy(
        "catalog_variant",
        [
            "id",
            "product_id",
            "sku",
            "name",
            "price",
            "cost",
            "barcode",
            "attributes",
            "is_active",
            "created_at",
        ],
        variant_rows,
    )
    ctx.copy(
        "inventory_stocklevel",
        ["variant_id", "location_id", "on_hand", "reserved", "reorder_point", "reorder_qty", "updated_at"],
        level_rows,
    )
    ctx.copy(
        "inventory_stockmovement",
        ["variant_id", "location_id", "kind", "quantity", "on_hand_delta", "reserved_delta", "on_hand_after",
         "reserved_after", "reason", "reference", "created_at"],
        movement_rows,
    )  # fmt: skip
    for table in ("catalog_category", "catalog_brand", "catalog_product", "catalog_variant"):
        _reset_sequence(ctx, table)
    loaded = time.perf_counter() - started
    if reindex:
        # Building the GIN index once is much cheaper than updating it row by row during the bulk
        # UPDATE; the vectors themselves come from the catalog's own reindex command.
        ctx.sql("DROP INDEX IF EXISTS catalog_product_search_gin")  # same name as migration 0003
        ctx.manage("catalog_reindex", "--no-progress", "--batch-size", "20000")
        index = "catalog_product_search_gin"
        ctx.sql(f"CREATE INDEX IF NOT EXISTS {index} ON catalog_product USING gin (search_vector)")
    # A live database is vacuumed by autovacuum; right after a bulk load the visibility map is empty and
    # counts could not use index-only scans. VACUUM now so the run measures the steady state.
    ctx.sql("VACUUM (ANALYZE) catalog_product, catalog_variant, catalog_category, inventory_stocklevel")
    return {
        "products": len(product_rows),
        "variants": len(variant_rows),
        "stock_levels": len(level_rows),
        "category_root_id": roots[0],
        "search_term": "organic chocolate",
        "product_id": product_id,
        "load_seconds": round(loaded, 2),
        "total_seconds": round(time.perf_counter() - started, 2),
    }


class _LocalCtx:
    """The three Context helpers, for running this module by hand."""

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url

    def sql(self, query: str, params: Any = None) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.database_url, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def copy(self, table: str, columns: list[str], rows: Any) -> int:
        import psycopg
        from psycopg import sql

        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
            sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
        )
        count = 0
        with psycopg.connect(self.database_url) as conn, conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
                count += 1
        return count

    def manage(self, *args: str, **kwargs: Any) -> str:
        proc = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, capture_output=True, text=True)
        if proc.returncode:
            raise RuntimeError(proc.stderr[-2000:])
        return proc.stdout


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL", ""))
    parser.add_argument("--no-reindex", action="store_true")
    args = parser.parse_args()
    if not args.database_url:
        parser.error("set DATABASE_URL or --database-url (a migrated PostgreSQL database)")
    result = load(_LocalCtx(args.database_url), products=args.products, reindex=not args.no_reindex)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
