"""Deterministic inventory data for the bench: N variants, one stock level each at the default location
plus a fifth of them at a store, and a ledger consistent with the levels (COPY). Every level's on_hand and
reserved equal the sums of its movements, so `stock_reconcile` finds no drift.

Variants already loaded by another module (e.g. the catalog bench) that have no stock yet are used first;
only the shortfall is created (ORM bulk insert, so catalog defaults apply) — a full `make bench` does not
double the catalog that other scenarios measure.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from bench.harness import Context

SEED = 20261122

_CATALOG_CODE = """
from decimal import Decimal
from apps.catalog.models import Brand, Category, Product, Variant

n = {n}
first = Variant.objects.filter(sku__startswith="INV-").count()  # re-runs append after earlier rows
cats = [
    Category.objects.get_or_create(slug=f"inv-cat-{{i}}", defaults={{"name": f"Inventory cat {{i}}"}})[0]
    for i in range(50)
]
brand = Brand.objects.get_or_create(
    slug="inventory-bench-brand", defaults={{"name": "Inventory bench brand"}}
)[0]
for start in range(first, first + n, 5000):
    stop = min(first + n, start + 5000)
    products = Product.objects.bulk_create(
        [
            Product(name=f"Inventory product {{i}}", slug=f"inv-product-{{i}}", category=cats[i % 50],
                    brand=brand, description="bench")
            for i in range(start, stop)
        ]
    )
    Variant.objects.bulk_create(
        [Variant(product=p, sku=f"INV-{{start + k:07d}}", name="Default", price=Decimal("10.00"),
                 cost=Decimal("6.00")) for k, p in enumerate(products)]
    )
print("OK")
"""


def generate(ctx: Context, *, variants: int = 100_000) -> dict[str, int]:
    """Load catalog rows, levels and a matching ledger; return ids the scenarios need."""
    unstocked = (
        "SELECT v.id FROM catalog_variant v WHERE NOT EXISTS "
        "(SELECT 1 FROM inventory_stocklevel l WHERE l.variant_id = v.id) ORDER BY v.id LIMIT %s"
    )
    shortfall = variants - len(ctx.sql(unstocked, [variants]))
    if shortfall > 0:
        ctx.manage("shell", "-c", _CATALOG_CODE.format(n=shortfall))
    (main_id,) = ctx.sql("SELECT id FROM inventory_location WHERE is_default")[0]
    rows = ctx.sql("SELECT id FROM inventory_location WHERE code = 'BENCH-STORE'")
    if rows:
        store_id = rows[0][0]
    else:
        (store_id,) = ctx.sql(
            "INSERT INTO inventory_location (code, name, kind, address, is_sellable, is_default, created_at)"
            " VALUES ('BENCH-STORE', 'Bench store', 'store', '', true, false, now()) RETURNING id"
        )[0]
    variant_ids = [r[0] for r in ctx.sql(unstocked, [variants])]
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    levels, movements = [], []
    for index, variant_id in enumerate(variant_ids):
        places = [main_id] + ([store_id] if index % 5 == 0 else [])
        for location_id in places:
            received = rng.randint(5, 200)
            adjust = -rng.randint(0, min(5, received))
            reserved = rng.randint(0, (received + adjust) // 4)
            on_hand = received + adjust
            reorder_point = rng.choice([0, 0, 10, 20])
            levels.append((variant_id, location_id, on_hand, reserved, reorder_point, 50, now))
            at = now - timedelta(days=30)
            movements.append(
                (variant_id, location_id, "receive", received, received, 0, received, 0, "", "", at)
            )
            if adjust:
                movements.append(
                    (
                        variant_id,
                        location_id,
                        "adjust",
                        adjust,
                        adjust,
                        0,
                        on_hand,
                        0,
                        "count",
                        "",
                        at + timedelta(days=1),
                    )
                )
            if reserved:
                movements.append(
                    (
                        variant_id,
                        location_id,
                        "reserve",
                        reserved,
                        0,
                        reserved,
                        on_hand,
                        reserved,
                        "reservation",
                        f"bench-{variant_id}",
                        at + timedelta(days=2),
                    )
                )
    ctx.copy(
        "inventory_stocklevel",
        ["variant_id", "location_id", "on_hand", "reserved", "reorder_point", "reorder_qty", "updated_at"],
        levels,
    )
    ctx.copy(
        "inventory_stockmovement",
        [
            "variant_id",
            "location_id",
            "kind",
            "quantity",
            "on_hand_delta",
            "reserved_delta",
            "on_hand_after",
            "reserved_after",
            "reason",
            "reference",
            "created_at",
        ],
        movements,
    )
    ctx.sql("ANALYZE inventory_stocklevel")
    ctx.sql("ANALYZE inventory_stockmovement")
    # ctx.vars is shared by every module of a run: prefixed names.
    return {
        "inventory_variant": variant_ids[0],
        "inventory_variant_ids": ",".join(str(v) for v in variant_ids[:2000]),
        "inventory_store_id": store_id,
        "inventory_levels": len(levels),
        "inventory_movements": len(movements),
    }
