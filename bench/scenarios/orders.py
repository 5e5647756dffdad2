"""Orders: checkout throughput with 20 concurrent buyers (each with its own JWT, a unique
Idempotency-Key per request) on ample stock and on one hot SKU, reported against the `insert`
baseline (target ≥ 0.25); then a hot-SKU sell-out (20 buyers race for 500 units) and an audit of
stock, ledger and orders: 0 oversell, 0 5xx."""

import threading
import time
import uuid
from collections import Counter

from bench.harness import Context, CustomScenario, HttpScenario

BUYERS = 20
SKUS = 200
AMPLE = 1_000_000
SELLOUT_UNITS = 500
SELLOUT_ATTEMPTS_PER_BUYER = 40  # 800 attempts for 500 units: 300 must be refused with 409

_PREPARE = """
from decimal import Decimal
from apps.accounts.models import User
from apps.catalog.models import Category, Product, Variant
from apps.inventory.services import stock_receive
from rest_framework_simplejwt.tokens import RefreshToken

category, _ = Category.objects.get_or_create(slug="bench-orders", defaults={{"name": "Bench orders"}})
product, _ = Product.objects.get_or_create(
    slug="bench-orders-product", defaults={{"name": "Bench orders product", "category": category}}
)
def sku(code, units):
    variant, created = Variant.objects.get_or_create(
        sku=code, defaults={{"product": product, "name": code, "price": Decimal("19.90")}}
    )
    if created:
        stock_receive(variant_id=variant.pk, quantity=units, reason="bench stock")
    return variant.pk
ids = [sku(f"BENCH-ORD-{{i:04d}}", {ample}) for i in range({skus})]
hot = sku("BENCH-ORD-HOT", {ample})
sellout = sku("BENCH-ORD-SELLOUT", {sellout})
tokens = []
for i in range({buyers}):
    user = User.objects.filter(email=f"bench-buyer-{{i}}@example.com").first() or User.objects.create_user(
        email=f"bench-buyer-{{i}}@example.com", first_name="Bench", last_name=f"Buyer {{i}}"
    )
    tokens.append(str(RefreshToken.for_user(user).access_token))
print("VARIANT_MIN=" + str(min(ids)))
print("VARIANT_MAX=" + str(max(ids)))
print("HOT=" + str(hot))
print("SELLOUT=" + str(sellout))
print("TOKENS=" + ",".join(tokens))
"""

ADDRESS = {"name": "Bench Buyer", "line1": "Av. Larco 123", "city": "Lima", "country": "PE"}


def prepare(ctx: Context) -> None:
    code = _PREPARE.format(ample=AMPLE, skus=SKUS, sellout=SELLOUT_UNITS, buyers=BUYERS)
    out = dict(line.split("=", 1) for line in ctx.manage("shell", "-c", code).splitlines() if "=" in line)
    ids = list(range(int(out["VARIANT_MIN"]), int(out["VARIANT_MAX"]) + 1))
    assert len(ids) == SKUS, "bench SKUs are not contiguous"
    ctx.vars.update(
        orders_variant_min=out["VARIANT_MIN"],
        orders_variant_max=out["VARIANT_MAX"],
        orders_hot_variant=out["HOT"],
        orders_sellout_variant=out["SELLOUT"],
        orders_tokens=out["TOKENS"],
    )


def _audit(ctx: Context) -> dict:
    """Stock, ledger and orders agree for every bench SKU; nothing sold or reserved beyond stock."""
    rows = ctx.sql(
        """
        SELECT v.id, v.sku, l.on_hand, l.reserved,
               (SELECT coalesce(sum(m.on_hand_delta), 0) FROM inventory_stockmovement m
                 WHERE m.variant_id = v.id AND m.location_id = l.location_id),
               (SELECT coalesce(sum(m.reserved_delta), 0) FROM inventory_stockmovement m
                 WHERE m.variant_id = v.id AND m.location_id = l.location_id),
               (SELECT coalesce(sum(m.quantity), 0) FROM inventory_stockmovement m
                 WHERE m.variant_id = v.id AND m.kind = 'receive'),
               (SELECT coalesce(sum(ol.quantity), 0) FROM orders_orderline ol
                  JOIN orders_order o ON o.id = ol.order_id
                 WHERE ol.variant_id = v.id
                   AND o.status IN ('pending_payment', 'paid', 'shipped', 'delivered')),
               (SELECT count(*) FROM inventory_stockmovement m
                 WHERE m.variant_id = v.id AND (m.on_hand_after < 0 OR m.reserved_after < 0
                       OR m.reserved_after > m.on_hand_after))
          FROM catalog_variant v JOIN inventory_stocklevel l ON l.variant_id = v.id
         WHERE v.sku LIKE 'BENCH-ORD-%%'
        """
    )
    problems = []
    ordered_total = 0
    for _vid, sku, on_hand, reserved, sum_on_hand, sum_reserved, received, ordered, bad_rows in rows:
        ordered_total += ordered
        if (on_hand, reserved) != (sum_on_hand, sum_reserved):
            problems.append(f"{sku}: level {on_hand}/{reserved} != ledger {sum_on_hand}/{sum_reserved}")
        if on_hand < 0 or reserved > on_hand or bad_rows:
            problems.append(f"{sku}: negative or over-reserved stock")
        # No payment completes in the bench: every ordered unit is still reserved, none beyond stock.
        if ordered != reserved or ordered > received:
            problems.append(f"{sku}: ordered {ordered}, reserved {reserved}, received {received}")
    return {"skus": len(rows), "ordered_units": ordered_total, "problems": problems}


def sellout(ctx: Context) -> dict:
    """20 buyers race for the last 500 units of one SKU: exactly 500 orders, the rest 409, no 5xx."""
    tokens = ctx.vars["orders_tokens"].split(",")
    variant = int(ctx.vars["orders_sellout_variant"])
    statuses: Counter = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(len(tokens))

    def buyer(token: str) -> None:
        barrier.wait()
        for _ in range(SELLOUT_ATTEMPTS_PER_BUYER):
            status, _, _ = ctx.request(
                "POST",
                "/api/v1/orders",
                body={"lines": [{"variant": variant, "quantity": 1}], "shipping_address": ADDRESS},
                headers={"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex},
            )
            with lock:
                statuses[status] += 1

    threads = [threading.Thread(target=buyer, args=(token,)) for token in tokens]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    orders = ctx.sql(
        "SELECT count(DISTINCT o.id) FROM orders_order o JOIN orders_orderline l ON l.order_id = o.id "
        "WHERE l.variant_id = %s",
        [variant],
    )[0][0]
    (on_hand, reserved) = ctx.sql(
        "SELECT sum(on_hand), sum(reserved) FROM inventory_stocklevel WHERE variant_id = %s", [variant]
    )[0]
    audit = _audit(ctx)
    server_errors = sum(n for status, n in statuses.items() if status >= 500)
    oversold = max(orders - SELLOUT_UNITS, 0) + len(audit["problems"])
    ok = (
        statuses.get(201) == SELLOUT_UNITS
        and orders == SELLOUT_UNITS
        and (on_hand, reserved) == (SELLOUT_UNITS, SELLOUT_UNITS)
        and statuses.get(409, 0) == BUYERS * SELLOUT_ATTEMPTS_PER_BUYER - SELLOUT_UNITS
        and server_errors == 0
        and not audit["problems"]
    )
    rate = statuses.get(201, 0) / seconds
    return {
        "value": round(rate, 1),
        "unit": "orders/s",
        "baseline": SELLOUT_UNITS,
        "ratio": round(orders / SELLOUT_UNITS, 3),
        "target": f"exactly {SELLOUT_UNITS} orders, 0 oversell, 0 5xx",
        "ok": ok,
        "non2xx": sum(n for status, n in statuses.items() if status >= 400),
        "notes": (
            f"statuses {dict(sorted(statuses.items()))} in {seconds:.1f}s; orders {orders}; level "
            f"{on_hand}/{reserved}; oversell {oversold}; 5xx {server_errors}; audit of {audit['skus']} SKUs "
            f"({audit['ordered_units']} units ordered): "
            + ("consistent" if not audit["problems"] else "; ".join(audit["problems"][:5]))
        ),
        "statuses": dict(statuses),
        "audit": audit,
    }


SCENARIOS = [
    HttpScenario(
        "POST /orders (20 buyers, 200 SKUs, ample stock)",
        "/api/v1/orders",
        method="POST",
        body={},
        lua="orders_checkout.lua",
        baseline="insert",
        target_ratio=0.25,
        connections=BUYERS,
    ),
    HttpScenario(
        "POST /orders (20 buyers, one hot SKU)",
        "/api/v1/orders",
        method="POST",
        body={},
        headers={"X-Bench-Mode": "hot"},
        lua="orders_checkout.lua",
        baseline="insert",
        target_ratio=0.25,
        connections=BUYERS,
    ),
    CustomScenario("hot SKU sell-out: 20 buyers, 500 units, 800 attempts + audit", run=sellout),
]
