"""Purchasing and rebates: `seed_demo` wall time, purchase order lists at 5k orders / 20k lines, a rebate
statement, and the purchase order admin changelist (target ≤ 300 ms).

The staff API reads have no throughput target in the issue: they are measured and must be clean (no
non-2xx), their ratio to the constant baseline is reported for docs/purchasing.md."""

import random
import statistics
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from bench.harness import Context, CustomScenario, HttpScenario

SEED = 20261122
ORDERS = 5_000
LINES_PER_ORDER = 4


def _load_orders(ctx: Context) -> int:
    """COPY extra purchase orders (numbers set from ids afterwards, like the service does)."""
    suppliers = [r[0] for r in ctx.sql("SELECT id FROM purchasing_supplier ORDER BY id")]
    (location_id,) = ctx.sql("SELECT id FROM inventory_location WHERE is_default")[0]
    variants = [r[0] for r in ctx.sql("SELECT id FROM catalog_variant ORDER BY id LIMIT 20000")]
    rng = random.Random(SEED)
    now = datetime.now(UTC)
    statuses = ["draft", "placed", "placed", "partially_received", "received", "received", "cancelled"]
    (before,) = ctx.sql("SELECT coalesce(max(id), 0) FROM purchasing_purchaseorder")[0]
    ctx.copy(
        "purchasing_purchaseorder",
        [
            "supplier_id",
            "location_id",
            "status",
            "expected_date",
            "notes",
            "total",
            "created_at",
            "updated_at",
        ],
        (
            (
                rng.choice(suppliers),
                location_id,
                rng.choice(statuses),
                (now + timedelta(days=rng.randint(-60, 30))).date(),
                "bench",
                Decimal("0.00"),
                now - timedelta(minutes=i),
                now,
            )
            for i in range(ORDERS)
        ),
    )
    ctx.sql(
        "UPDATE purchasing_purchaseorder SET number = 'PO-' || lpad(id::text, 6, '0') WHERE id > %s", [before]
    )
    orders = ctx.sql("SELECT id, status FROM purchasing_purchaseorder WHERE id > %s ORDER BY id", [before])

    def lines():
        for order_id, status in orders:
            for variant_id in rng.sample(variants, LINES_PER_ORDER):
                quantity = rng.choice([12, 24, 48, 96])
                received = (
                    quantity
                    if status == "received"
                    else quantity // 2
                    if status == "partially_received"
                    else 0
                )
                yield order_id, variant_id, quantity, received, Decimal(rng.randint(100, 5000)) / 100

    ctx.copy(
        "purchasing_purchaseorderline",
        ["order_id", "variant_id", "quantity", "received_quantity", "unit_cost"],
        lines(),
    )
    ctx.sql(
        "UPDATE purchasing_purchaseorder o SET total = s.total"
        " FROM (SELECT order_id, sum(quantity * unit_cost) AS total"
        " FROM purchasing_purchaseorderline GROUP BY order_id) s"
        " WHERE s.order_id = o.id AND o.id > %s",
        [before],
    )
    return len(orders)


def prepare(ctx: Context) -> None:
    start = time.perf_counter()
    ctx.manage("seed_demo", "--products", "500", "--verbosity", "0")
    ctx.vars["seed_seconds"] = round(time.perf_counter() - start, 2)
    ctx.vars["orders"] = _load_orders(ctx)
    (agreement_id,) = ctx.sql("SELECT min(id) FROM rebates_rebateagreement")[0]
    ctx.vars["agreement_id"] = agreement_id
    ctx.token("staff")
    ctx.session("staff")


def seed_time(ctx: Context) -> dict:
    """Wall time of `manage.py seed_demo --products 500` (process start included) on PostgreSQL."""
    seconds = ctx.vars["seed_seconds"]
    return {
        "value": seconds,
        "unit": "s",
        "baseline": 60.0,
        "ratio": round(60.0 / seconds, 2),
        "target": "<= 60 s",
        "ok": seconds <= 60,
        "notes": "500 products, stock in two locations, suppliers, POs through the services, one agreement",
    }


def admin_changelist(ctx: Context) -> dict:
    """Median latency of the purchase order changelist at ~5k orders."""
    times = []
    for _ in range(15):
        status, body, seconds = ctx.request("GET", "/admin/purchasing/purchaseorder/", auth="session:staff")
        if status != 200:
            raise RuntimeError(f"changelist answered {status}: {body[:300]!r}")
        times.append(seconds)
    median = statistics.median(times)
    return {
        "value": round(median * 1000, 1),
        "unit": "ms (median)",
        "baseline": 300.0,
        "ratio": round(300.0 / (median * 1000), 2),
        "target": "<= 300 ms",
        "ok": median <= 0.3,
        "notes": f"{ctx.vars['orders']} bench orders + the seed's",
    }


SCENARIOS = [
    HttpScenario("GET /purchase-orders", "/api/v1/purchase-orders?page_size=20", auth="staff"),
    HttpScenario(
        "GET /purchase-orders?status=placed",
        "/api/v1/purchase-orders?status=placed&page_size=20",
        auth="staff",
    ),
    HttpScenario(
        "GET /rebates/agreements/{id}/statement",
        "/api/v1/rebates/agreements/{agreement_id}/statement",
        auth="staff",
    ),
    CustomScenario("seed_demo --products 500", run=seed_time),
    CustomScenario("admin purchase order changelist", run=admin_changelist),
]
