"""Hourly scoring: one set-based statement folds new events into popularity and rescores every product.

Popularity uses forward decay with a landmark L (Cormode et al.): each event adds w·2^((t − L)/h) to
`popularity_raw`, so a run only reads the events above the Event.id watermark; the decayed value at time T
is popularity_raw · 2^(−(T − L)/h). When T − L exceeds SCORING_RELANDMARK_HALF_LIVES half-lives the stored
sums are rescaled to a new landmark in the same statement, so exponents never grow without bound.

Normalised components are built to stay still between runs (a common decay factor cancels in a ratio; the
normalisers move only when a maximum crosses a power of two or a newer product appears), so the upsert's
IS DISTINCT FROM guard rewrites only the rows whose inputs changed: products with new events, impressions
or stock changes. `popularity_score` and `freshness_score` are snapshots as of the row's `computed_at`.

Scores are evaluated at the top of the hour: a second run in the same hour finds no new events, computes
identical values and writes nothing. Impressions over the 7 full days before today are counted by the first
run of each UTC day; later runs add the views and clicks of today among the new events only, so an hourly
run reads the events above the watermark and nothing else.
"""

import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.catalog.models import Product, Variant
from apps.engagement.models import Event
from apps.exposure import metrics
from apps.exposure.models import ExposureMix, ExposureSlot, ProductRanking, ScoringState
from apps.inventory.models import Location, StockLevel

from .cache import exposure_cache_invalidate

logger = logging.getLogger("apps.exposure")

IMPRESSION_WINDOW = timedelta(days=7)
# power(2, x) raises on float8 underflow/overflow in PostgreSQL; 2^±1000 is far beyond any useful score.
_EXP_CLAMP = 1000
_EVENTS = "exposure_scoring_events"
# Compared to decide whether a row changed; the snapshots are refreshed only when it did.
_COMPARED = [
    "category_id",
    "in_stock",
    "available",
    "popularity_raw",
    "impressions_base",
    "clicks_base",
    "views_today",
    "impressions_7d",
    "clicks_7d",
    "cold_score",
    "price",
    "cost",
    "profit_score",
    "popularity_norm",
    "cold_norm",
    "profit_norm",
    "freshness_norm",
    "exposure_score",
]
_SNAPSHOTS = ["popularity_score", "freshness_score", "computed_at"]


@dataclass(frozen=True)
class ScoringResult:
    products_scored: int
    events_processed: int
    duration_ms: int
    computed_at: datetime
    products_changed: int = 0


def hour_floor(moment: datetime) -> datetime:
    """`moment` in UTC truncated to the hour."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def default_weights() -> tuple[float, float, float, float]:
    """(α, w_cold, w_profit, w_fresh) from settings."""
    w = settings.SCORING_STRATEGY_WEIGHTS
    return float(settings.SCORING_ALPHA), float(w["cold"]), float(w["profit"]), float(w["fresh"])


def _high_watermark(*, after: int) -> int:
    """Highest Event.id safe to fold in: rows younger than the ingest lag wait for the next run.

    Ids come from a sequence, so a slow insert can commit a lower id after a faster one; the lag keeps
    the watermark behind anything that may still be in flight.
    """
    lag = float(settings.SCORING_INGEST_LAG_SECONDS)
    table = Event._meta.db_table
    with connection.cursor() as cursor:
        if lag > 0:
            cursor.execute(
                f"SELECT id FROM {table} WHERE id > %s "
                "AND received_at <= clock_timestamp() - make_interval(secs => %s) ORDER BY id DESC LIMIT 1",
                [after, lag],
            )
        else:
            cursor.execute(f"SELECT MAX(id) FROM {table} WHERE id > %s", [after])
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None else after


def _events_sql(*, recompute: bool) -> str:
    """Per-product sums over the new events (and, once a day, the impression window) in one pass.

    Today's views and clicks are counted among the new events only, except on the day's first run, which
    recounts every folded event of today: each event of today is counted exactly once either way.
    """
    event = Event._meta.db_table
    new_events = "e.id > %(wm)s AND e.id <= %(hi)s"
    base_days = "e.bucket_hour >= %(win_start)s AND e.bucket_hour < %(day_start)s"
    today = (
        "e.bucket_hour >= %(day_start)s AND e.id <= %(hi)s"
        if recompute
        else f"e.bucket_hour >= %(day_start)s AND {new_events}"
    )
    scanned = f"({new_events}) OR e.bucket_hour >= %(win_start)s" if recompute else new_events
    clamp = _EXP_CLAMP
    return f"""
        SELECT e.product_id,
               COUNT(*) FILTER (WHERE {new_events}) AS n,
               SUM(CASE e.type WHEN 'view' THEN %(w_view)s WHEN 'click' THEN %(w_click)s
                               WHEN 'add_to_cart' THEN %(w_cart)s WHEN 'purchase' THEN %(w_purchase)s
                               ELSE 0 END
                   * power(2.0::float8, LEAST(GREATEST(
                       (extract(epoch FROM e.occurred_at)::float8 - %(l_epoch)s) / %(h_sec)s,
                       -{clamp}), {clamp}))) FILTER (WHERE {new_events}) AS delta,
               COUNT(*) FILTER (WHERE e.type = 'view' AND {base_days}) AS views_base,
               COUNT(*) FILTER (WHERE e.type = 'click' AND {base_days}) AS clicks_base,
               COUNT(*) FILTER (WHERE e.type = 'view' AND {today}) AS views_today,
               COUNT(*) FILTER (WHERE e.type = 'click' AND {today}) AS clicks_today
        FROM {event} e
        WHERE {scanned}
        GROUP BY e.product_id
    """


def _scoring_sql() -> str:
    t = {
        "product": Product._meta.db_table,
        "variant": Variant._meta.db_table,
        "stock": StockLevel._meta.db_table,
        "location": Location._meta.db_table,
        "ranking": ProductRanking._meta.db_table,
        "slot": ExposureSlot._meta.db_table,
        "mix": ExposureMix._meta.db_table,
    }
    clamp = _EXP_CLAMP
    return f"""
    WITH stock AS (
        SELECT v.product_id, SUM(GREATEST(s.on_hand - s.reserved, 0)) AS available
        FROM {t["stock"]} s
        JOIN {t["variant"]} v ON v.id = s.variant_id AND v.is_active
        JOIN {t["location"]} l ON l.id = s.location_id AND l.is_sellable
        GROUP BY v.product_id
    ),
    cheapest AS (
        SELECT DISTINCT ON (v.product_id) v.product_id, v.price, v.cost
        FROM {t["variant"]} v WHERE v.is_active
        ORDER BY v.product_id, v.price, v.id
    ),
    served AS (
        SELECT sl.product_id,
               SUM(m.served_count) FILTER (WHERE sl.served_at < %(day_start)s) AS base,
               SUM(m.served_count) FILTER (WHERE sl.served_at >= %(day_start)s) AS today
        FROM {t["slot"]} sl JOIN {t["mix"]} m ON m.exposure_id = sl.exposure_id
        WHERE sl.served_at >= %(scan_from)s AND sl.served_at < %(as_of)s
        GROUP BY sl.product_id
    ),
    base AS (
        SELECT p.id AS product_id, p.category_id, p.is_active, p.created_at,
               COALESCE(st.available, 0)::int AS available,
               (p.is_active AND COALESCE(st.available, 0) > 0) AS in_stock,
               COALESCE(r.popularity_raw, 0) * %(rescale)s + COALESCE(ev.delta, 0) AS popularity_raw,
               CASE WHEN %(recompute)s THEN (COALESCE(ev.views_base, 0) + COALESCE(sv.base, 0))::int
                    ELSE COALESCE(r.impressions_base, 0) END AS impressions_base,
               CASE WHEN %(recompute)s THEN COALESCE(ev.clicks_base, 0)::int
                    ELSE COALESCE(r.clicks_base, 0) END AS clicks_base,
               (CASE WHEN %(recompute)s THEN 0 ELSE COALESCE(r.views_today, 0) END
                + COALESCE(ev.views_today, 0))::int AS views_today,
               (CASE WHEN %(recompute)s THEN 0 ELSE COALESCE(r.clicks_7d - r.clicks_base, 0) END
                + COALESCE(ev.clicks_today, 0))::int AS clicks_today,
               COALESCE(sv.today, 0)::int AS served_today,
               ch.price, ch.cost, COALESCE(ev.n, 0) AS events
        FROM {t["product"]} p
        LEFT JOIN {t["ranking"]} r ON r.product_id = p.id
        LEFT JOIN {_EVENTS} ev ON ev.product_id = p.id
        LEFT JOIN stock st ON st.product_id = p.id
        LEFT JOIN cheapest ch ON ch.product_id = p.id
        LEFT JOIN served sv ON sv.product_id = p.id
    ),
    scored AS (
        SELECT b.*,
               b.impressions_base + b.views_today + b.served_today AS impressions,
               b.clicks_base + b.clicks_today AS clicks,
               b.popularity_raw * %(decay)s AS popularity_score,
               CASE WHEN b.in_stock
                    THEN power(2.0::float8, GREATEST(
                        -(b.impressions_base + b.views_today + b.served_today) / %(cold_k)s, -{clamp}))
                    ELSE 0 END AS cold_score,
               CASE WHEN b.price > 0 AND b.cost IS NOT NULL
                    THEN GREATEST(LEAST(((b.price - b.cost) / b.price)::float8, 1), 0)
                    ELSE 0 END AS profit_score,
               power(2.0::float8, GREATEST(
                   -GREATEST(extract(epoch FROM (%(as_of)s - b.created_at))::float8, 0) / %(fresh_sec)s,
                   -{clamp})) AS freshness_score
        FROM base b
    ),
    maxes AS (
        -- Normalisers that move rarely: popularity by the smallest power of two ≥ its maximum (the
        -- landmark-relative sums grow every hour), freshness relative to the end of the UTC day of the
        -- newest product; cold and profit by their plain maximum.
        SELECT power(2.0::float8, ceil(ln(NULLIF(MAX(popularity_raw), 0)) / ln(2.0::float8))) AS mp,
               NULLIF(MAX(cold_score), 0) AS mc,
               NULLIF(MAX(profit_score), 0) AS mpr,
               date_trunc('day', MAX(created_at), 'UTC') + interval '1 day' AS newest_day_end
        FROM scored WHERE is_active
    ),
    normed AS (
        SELECT s.*,
               LEAST(COALESCE(s.popularity_raw / m.mp, 0), 1) AS pn,
               COALESCE(s.cold_score / m.mc, 0) AS cn,
               COALESCE(s.profit_score / m.mpr, 0) AS prn,
               LEAST(COALESCE(power(2.0::float8, GREATEST(
                   -extract(epoch FROM (m.newest_day_end - s.created_at))::float8 / %(fresh_sec)s,
                   -{clamp})), 0), 1) AS fn
        FROM scored s CROSS JOIN maxes m
    )
    SELECT product_id, category_id, in_stock, available, popularity_raw, impressions_base, clicks_base,
           views_today, impressions AS impressions_7d, clicks AS clicks_7d, cold_score, price, cost,
           profit_score,
           pn AS popularity_norm, cn AS cold_norm, prn AS profit_norm, fn AS freshness_norm,
           %(alpha)s * pn + (1 - %(alpha)s) * (%(wc)s * cn + %(wp)s * prn + %(wf)s * fn) AS exposure_score,
           popularity_score, freshness_score, %(as_of)s::timestamptz AS computed_at, events
    FROM normed
    """


def _upsert_sql() -> str:
    """Score every product from the per-product event sums and write the rows that changed."""
    compared, snapshots = _COMPARED, _SNAPSHOTS
    columns = [*compared, *snapshots]
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns)
    old = ", ".join(f"r.{c}" for c in compared)
    new = ", ".join(f"EXCLUDED.{c}" for c in compared)
    old_o = ", ".join(f"o.{c}" for c in compared)
    new_f = ", ".join(f"f.{c}" for c in compared)
    ranking = ProductRanking._meta.db_table
    return f"""
    WITH f AS ({_scoring_sql()}),
    upserted AS (
        -- Only changed rows reach the upsert (an unchanged row costs a hash probe, not an index probe).
        INSERT INTO {ranking} AS r (product_id, {", ".join(columns)})
        SELECT f.product_id, {", ".join(f"f.{c}" for c in columns)}
        FROM f LEFT JOIN {ranking} o ON o.product_id = f.product_id
        WHERE o.product_id IS NULL OR ({old_o}) IS DISTINCT FROM ({new_f})
        ON CONFLICT (product_id) DO UPDATE SET {update}
        WHERE ({old}) IS DISTINCT FROM ({new})
        RETURNING 1
    )
    SELECT (SELECT COUNT(*) FROM f), (SELECT COALESCE(SUM(events), 0) FROM f), (SELECT COUNT(*) FROM upserted)
    """


def scoring_run(*, now: datetime | None = None) -> ScoringResult:
    """Fold new engagement events into popularity and rescore every product (idempotent within an hour).

    Locks the ScoringState row for the whole run: an overlapping run waits, then sees the watermark this
    one committed and adds nothing twice. Invalidates the exposure cache after commit.
    """
    started = time.perf_counter()
    as_of = hour_floor(now or timezone.now())
    half_life_sec = float(settings.SCORING_HALF_LIFE_HOURS) * 3600.0
    alpha, w_cold, w_profit, w_fresh = default_weights()
    weights = settings.SCORING_EVENT_WEIGHTS

    with transaction.atomic():
        ScoringState.objects.get_or_create(id=1)
        state = ScoringState.objects.select_for_update().get(id=1)
        landmark = state.landmark or as_of
        rescale = 1.0
        if (as_of - landmark).total_seconds() / half_life_sec > float(settings.SCORING_RELANDMARK_HALF_LIVES):
            # Move L to now: every stored sum is multiplied by 2^((L_old − L_new)/h) in the same statement.
            rescale = math.pow(2.0, (landmark - as_of).total_seconds() / half_life_sec)
            landmark = as_of
        high = _high_watermark(after=state.last_event_id)
        day_start = as_of.replace(hour=0)
        # The 7 full days before today are counted once a day; later runs only add today's impressions.
        recompute = state.impressions_day != day_start
        params = {
            "w_view": float(weights["view"]),
            "w_click": float(weights["click"]),
            "w_cart": float(weights["add_to_cart"]),
            "w_purchase": float(weights["purchase"]),
            "l_epoch": landmark.timestamp(),
            "h_sec": half_life_sec,
            "wm": state.last_event_id,
            "hi": high,
            "rescale": rescale,
            "decay": math.pow(2.0, -(as_of - landmark).total_seconds() / half_life_sec),
            "win_start": day_start - IMPRESSION_WINDOW,
            "day_start": day_start,
            "recompute": recompute,
            "scan_from": day_start - IMPRESSION_WINDOW if recompute else day_start,  # served slots
            "as_of": as_of,
            "cold_k": float(settings.SCORING_COLD_IMPRESSIONS),
            "fresh_sec": float(settings.SCORING_FRESHNESS_HALF_LIFE_DAYS) * 86400.0,
            "alpha": alpha,
            "wc": w_cold,
            "wp": w_profit,
            "wf": w_fresh,
        }
        with connection.cursor() as cursor:
            # The pass over the events is a plain SELECT (into a temp table) so PostgreSQL can run it in
            # parallel; a statement that writes the rankings cannot use parallel workers.
            # Enough memory for the per-product hashes and sorts over the whole catalog (no temp files).
            cursor.execute("SET LOCAL work_mem = '64MB'")
            cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{_EVENTS}")
            cursor.execute(
                f"CREATE TEMP TABLE {_EVENTS} ON COMMIT DROP AS {_events_sql(recompute=recompute)}", params
            )
            cursor.execute(_upsert_sql(), params)
            products, events, changed = (int(x) for x in cursor.fetchone())
            cursor.execute(f"DROP TABLE {_EVENTS}")
        duration_ms = int((time.perf_counter() - started) * 1000)
        state.landmark = landmark
        state.last_event_id = high
        state.last_run_at = timezone.now()
        state.last_computed_at = as_of
        state.impressions_day = day_start
        state.last_events_processed = int(events)
        state.last_products_scored = int(products)
        state.last_duration_ms = duration_ms
        state.save()
        transaction.on_commit(exposure_cache_invalidate)

    metrics.SCORING_DURATION.observe(duration_ms / 1000)
    metrics.SCORING_EVENTS.inc(int(events))
    logger.info(
        "scoring_run",
        extra={"products": products, "events": events, "changed": changed, "duration_ms": duration_ms},
    )
    return ScoringResult(
        products_scored=int(products),
        events_processed=int(events),
        duration_ms=duration_ms,
        computed_at=as_of,
        products_changed=int(changed),
    )
