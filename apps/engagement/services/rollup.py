"""Rollups of raw events into hourly, daily and per-customer aggregates, driven by an ingestion watermark.

Each run folds the events with `last_event_id < Event.id <= high` (ingestion order, so an event that
arrives late for an old hour is still counted, into that old hour and day) and moves the watermark in
the same transaction as the aggregates. A rerun therefore finds nothing new and changes nothing; two
runs at once serialize on the watermark row (SELECT … FOR UPDATE).

PostgreSQL runs set-based SQL (`INSERT … SELECT … GROUP BY … ON CONFLICT DO UPDATE`). Other databases
(SQLite in embedded mode) use an ORM/Python fallback with the same results, fine for a demo's volume.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from apps.catalog.models import Product
from apps.engagement.models import (
    CustomerEngagementDaily,
    Event,
    ProductEngagementDaily,
    ProductEngagementHourly,
    RollupWatermark,
)

logger = logging.getLogger("apps.engagement")

WATERMARK = "engagement_rollup"
# How long the rollup waits for in-flight inserts before giving up this run (see event_safe_high_watermark).
LOCK_TIMEOUT = "5s"
COUNT_FIELDS = {"view": "views", "click": "clicks", "add_to_cart": "add_to_cart", "purchase": "purchases"}


@dataclass(frozen=True, slots=True)
class RollupResult:
    events: int
    hourly_rows: int
    daily_rows: int
    customer_rows: int
    watermark: int


def event_safe_high_watermark() -> int:
    """Return the highest Event.id below which every id is committed (for any id-watermark consumer).

    Sequence values are taken in one order and committed in another: reading max(id) while an insert
    with a lower id is still in flight would skip that event forever. A SHARE lock waits for every
    in-flight INSERT (they hold ROW EXCLUSIVE) and blocks new ones for the instant it takes to read
    max(id); ingestion stalls for at most the duration of the slowest in-flight insert.
    """
    table = Event._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
            cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        return int(cursor.fetchone()[0])


def engagement_rollup(*, chunk_size: int = 1_000_000) -> RollupResult:
    """Fold the events ingested since the last run into the hourly, daily and customer aggregates."""
    high = event_safe_high_watermark()
    totals = [0, 0, 0, 0]
    watermark = 0
    while True:
        with transaction.atomic():
            mark, _ = RollupWatermark.objects.get_or_create(name=WATERMARK)
            mark = RollupWatermark.objects.select_for_update().get(pk=mark.pk)
            low, watermark = mark.last_event_id, mark.last_event_id
            if low >= high:
                break
            upper = min(high, low + chunk_size)
            if connection.vendor == "postgresql":
                counts = _rollup_postgresql(low, upper)
            else:
                counts = _rollup_python(low, upper)
            totals = [a + b for a, b in zip(totals, counts, strict=True)]
            mark.last_event_id = watermark = upper
            mark.save(update_fields=["last_event_id", "updated_at"])
    result = RollupResult(*totals, watermark=watermark)
    logger.info("engagement_rollup", extra={"events": result.events, "watermark": result.watermark})
    return result


def _weights() -> list[float]:
    weights = settings.SCORING_EVENT_WEIGHTS
    return [float(weights.get(kind, 0.0)) for kind in ("view", "click", "add_to_cart", "purchase")]


_COUNTS_SQL = """
    count(*) FILTER (WHERE e.type = 'view') AS views,
    count(*) FILTER (WHERE e.type = 'click') AS clicks,
    count(*) FILTER (WHERE e.type = 'add_to_cart') AS add_to_cart,
    count(*) FILTER (WHERE e.type = 'purchase') AS purchases
"""
_ADD_COUNTS_SQL = """
    views = t.views + EXCLUDED.views,
    clicks = t.clicks + EXCLUDED.clicks,
    add_to_cart = t.add_to_cart + EXCLUDED.add_to_cart,
    purchases = t.purchases + EXCLUDED.purchases
"""
# Merge two {category: weight} objects by adding the weights of common keys.
_MERGE_AFFINITIES_SQL = """
    category_affinities = (
        SELECT COALESCE(jsonb_object_agg(key, total), '{}'::jsonb)
        FROM (
            SELECT key, SUM(value::numeric) AS total
            FROM (
                SELECT * FROM jsonb_each_text(t.category_affinities)
                UNION ALL
                SELECT * FROM jsonb_each_text(EXCLUDED.category_affinities)
            ) AS pairs
            GROUP BY key
        ) AS merged
    )
"""


def _rollup_postgresql(low: int, high: int) -> tuple[int, int, int, int]:
    event = Event._meta.db_table
    hourly = ProductEngagementHourly._meta.db_table
    daily = ProductEngagementDaily._meta.db_table
    customer = CustomerEngagementDaily._meta.db_table
    product = Product._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {event} WHERE id > %s AND id <= %s", [low, high])
        events = int(cursor.fetchone()[0])
        if not events:
            return 0, 0, 0, 0
        # Hourly: the new events' counts are added to what the hour already has.
        cursor.execute(
            f"""
            INSERT INTO {hourly} AS t (product_id, bucket_hour, views, clicks, add_to_cart, purchases)
            SELECT e.product_id, e.bucket_hour, {_COUNTS_SQL}
            FROM {event} e
            WHERE e.id > %s AND e.id <= %s
            GROUP BY e.product_id, e.bucket_hour
            ON CONFLICT (product_id, bucket_hour) DO UPDATE SET {_ADD_COUNTS_SQL}
            """,
            [low, high],
        )
        hourly_rows = cursor.rowcount
        # Daily: every (product, day) the new events touched is recomputed from its hourly rows.
        cursor.execute(
            f"""
            WITH touched AS (
                SELECT DISTINCT product_id, (bucket_hour AT TIME ZONE 'UTC')::date AS day
                FROM {event} WHERE id > %s AND id <= %s
            )
            INSERT INTO {daily} AS t (product_id, day, views, clicks, add_to_cart, purchases, ctr)
            SELECT d.product_id, d.day, d.views, d.clicks, d.add_to_cart, d.purchases,
                   CASE WHEN d.views > 0 THEN d.clicks::float8 / d.views ELSE 0 END
            FROM (
                SELECT h.product_id, t.day, SUM(h.views) AS views, SUM(h.clicks) AS clicks,
                       SUM(h.add_to_cart) AS add_to_cart, SUM(h.purchases) AS purchases
                FROM touched t
                JOIN {hourly} h
                  ON h.product_id = t.product_id
                 AND h.bucket_hour >= t.day::timestamp AT TIME ZONE 'UTC'
                 AND h.bucket_hour < (t.day + 1)::timestamp AT TIME ZONE 'UTC'
                GROUP BY h.product_id, t.day
            ) AS d
            ON CONFLICT (product_id, day) DO UPDATE SET
                views = EXCLUDED.views, clicks = EXCLUDED.clicks, add_to_cart = EXCLUDED.add_to_cart,
                purchases = EXCLUDED.purchases, ctr = EXCLUDED.ctr
            """,
            [low, high],
        )
        daily_rows = cursor.rowcount
        # Customers (or anonymous ids): counts added, category weights merged key by key.
        customer_rows = 0
        for subject, where, conflict in (
            ("customer_id", "e.customer_id IS NOT NULL", "(customer_id, day) WHERE customer_id IS NOT NULL"),
            (
                "anonymous_id",
                "e.customer_id IS NULL AND e.anonymous_id <> ''",
                "(anonymous_id, day) WHERE customer_id IS NULL",
            ),
        ):
            other = "''" if subject == "customer_id" else "NULL::bigint"
            columns = "customer_id, anonymous_id" if subject == "customer_id" else "anonymous_id, customer_id"
            cursor.execute(
                f"""
                WITH per_category AS (
                    SELECT e.{subject} AS subject, (e.bucket_hour AT TIME ZONE 'UTC')::date AS day,
                           p.category_id, {_COUNTS_SQL},
                           SUM(CASE e.type WHEN 'view' THEN %s WHEN 'click' THEN %s
                                           WHEN 'add_to_cart' THEN %s WHEN 'purchase' THEN %s
                                           ELSE 0 END::numeric) AS weight
                    FROM {event} e LEFT JOIN {product} p ON p.id = e.product_id
                    WHERE e.id > %s AND e.id <= %s AND {where}
                    GROUP BY 1, 2, 3
                )
                INSERT INTO {customer} AS t
                    ({columns}, day, views, clicks, add_to_cart, purchases, category_affinities)
                SELECT subject, {other}, day, SUM(views), SUM(clicks), SUM(add_to_cart), SUM(purchases),
                       COALESCE(
                           jsonb_object_agg(category_id::text, weight) FILTER (WHERE category_id IS NOT NULL),
                           '{{}}'::jsonb
                       )
                FROM per_category
                GROUP BY subject, day
                ON CONFLICT {conflict} DO UPDATE SET {_ADD_COUNTS_SQL}, {_MERGE_AFFINITIES_SQL}
                """,
                [*_weights(), low, high],
            )
            customer_rows += cursor.rowcount
    return events, hourly_rows, daily_rows, customer_rows


def _rollup_python(low: int, high: int) -> tuple[int, int, int, int]:
    """The same rollup with the ORM, for databases without the PostgreSQL SQL (embedded SQLite)."""
    rows = list(
        Event.objects.filter(id__gt=low, id__lte=high).values_list(
            "product_id", "bucket_hour", "type", "customer_id", "anonymous_id"
        )
    )
    if not rows:
        return 0, 0, 0, 0
    categories = dict(Product.objects.filter(pk__in={r[0] for r in rows}).values_list("pk", "category_id"))
    weights = dict(zip(("view", "click", "add_to_cart", "purchase"), _weights(), strict=True))
    hourly: dict[tuple[int, datetime], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    customers: dict[tuple[str, Any, date], dict[str, Any]] = {}
    for product_id, bucket_hour, kind, customer_id, anonymous_id in rows:
        hourly[(product_id, bucket_hour)][COUNT_FIELDS[kind]] += 1
        if customer_id is None and not anonymous_id:
            continue
        day = bucket_hour.astimezone(UTC).date()
        key = ("customer", customer_id, day) if customer_id else ("anon", anonymous_id, day)
        entry = customers.setdefault(key, {"counts": defaultdict(int), "affinities": defaultdict(float)})
        entry["counts"][COUNT_FIELDS[kind]] += 1
        category = categories.get(product_id)
        if category is not None:
            entry["affinities"][str(category)] += weights[kind]
    for (product_id, bucket_hour), counts in hourly.items():
        updated = ProductEngagementHourly.objects.filter(
            product_id=product_id, bucket_hour=bucket_hour
        ).update(**{name: F(name) + value for name, value in counts.items()})
        if not updated:
            ProductEngagementHourly.objects.create(product_id=product_id, bucket_hour=bucket_hour, **counts)
    touched = {(product_id, bucket_hour.astimezone(UTC).date()) for product_id, bucket_hour in hourly}
    for product_id, day in touched:
        start = datetime.combine(day, datetime.min.time(), tzinfo=UTC)
        totals = dict.fromkeys(COUNT_FIELDS.values(), 0)
        for row in ProductEngagementHourly.objects.filter(
            product_id=product_id, bucket_hour__gte=start, bucket_hour__lt=start + timedelta(days=1)
        ).values(*COUNT_FIELDS.values()):
            for name in totals:
                totals[name] += row[name]
        ctr = totals["clicks"] / totals["views"] if totals["views"] else 0.0
        ProductEngagementDaily.objects.update_or_create(
            product_id=product_id, day=day, defaults={**totals, "ctr": ctr}
        )
    for (kind, subject, day), entry in customers.items():
        lookup = (
            {"customer_id": subject} if kind == "customer" else {"customer": None, "anonymous_id": subject}
        )
        row = CustomerEngagementDaily.objects.filter(day=day, **lookup).first()
        if row is None:
            row = CustomerEngagementDaily(day=day, **lookup)
        for name, value in entry["counts"].items():
            setattr(row, name, getattr(row, name) + value)
        merged = dict(row.category_affinities or {})
        for category, weight in entry["affinities"].items():
            merged[category] = merged.get(category, 0) + weight
        row.category_affinities = merged
        row.save()
    return len(rows), len(hourly), len(touched), len(customers)
