"""Exposure reads: serving candidates, pins, affinities, experiments, rankings and CTR reports."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet

from apps.catalog.models import Product, Variant
from apps.engagement.models import CustomerEngagementDaily, Event
from apps.inventory.models import Location, StockLevel

from .models import ExposureExperiment, ExposureMix, ExposurePin, ExposureSlot, ProductRanking

COLD_THRESHOLD = 0.5  # cold_score ≥ ½ ⇔ at most K impressions in 7 days (K = SCORING_COLD_IMPRESSIONS)


@dataclass(frozen=True)
class Weights:
    variant: str
    alpha: float
    w_cold: float
    w_profit: float
    w_fresh: float
    experiment_key: str = ""


@dataclass
class Candidate:
    product_id: int
    category_id: int
    created_at: datetime
    available: int
    score: float
    popularity_score: float
    popularity_norm: float
    cold_score: float
    cold_norm: float
    profit_norm: float
    freshness_norm: float
    profit_score: float
    cost_known: bool
    impressions_7d: int
    clicks_7d: int
    is_cold: bool


def ranking_list() -> QuerySet[ProductRanking]:
    """Rankings with their product name loaded (admin and API lists)."""
    return ProductRanking.objects.select_related("product")


def pins_active(*, context: str, category_id: int | None, now: datetime) -> list[ExposurePin]:
    """Pins of a context (and category page) whose schedule includes `now`, by position then newest."""
    return list(
        ExposurePin.objects.filter(context=context, category_id=category_id)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=now))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now))
        .order_by("position", "-created_at", "-id")
    )


def pin_list() -> QuerySet[ExposurePin]:
    """Every pin, newest first."""
    return ExposurePin.objects.select_related("product", "category").order_by("-created_at", "-id")


def experiment_active_weights() -> tuple[str, list[tuple[Weights, int]]] | None:
    """The active experiment's key and its variants' (weights, traffic share), or None."""
    experiment = ExposureExperiment.objects.filter(is_active=True).prefetch_related("variants").first()
    if experiment is None:
        return None
    variants = [
        (Weights(v.key, v.alpha, v.w_cold, v.w_profit, v.w_fresh, experiment.key), v.traffic_share)
        for v in sorted(experiment.variants.all(), key=lambda v: v.key)
    ]
    return (experiment.key, variants) if variants else None


def category_affinities(
    *, customer_id: int | None, anonymous_id: str, now: datetime, limit: int = 5
) -> list[tuple[int, float]]:
    """Top categories of a visitor by summed event weight over EXPOSURE_AFFINITY_DAYS (engagement rollups)."""
    subject = Q()
    if customer_id:
        subject |= Q(customer_id=customer_id)
    if anonymous_id:
        subject |= Q(customer__isnull=True, anonymous_id=anonymous_id)
    if not subject:
        return []
    since = (now - timedelta(days=settings.EXPOSURE_AFFINITY_DAYS)).date()
    totals: dict[int, float] = defaultdict(float)
    for affinities in CustomerEngagementDaily.objects.filter(subject, day__gte=since).values_list(
        "category_affinities", flat=True
    ):
        for category_id, weight in (affinities or {}).items():
            try:
                totals[int(category_id)] += float(weight)
            except (TypeError, ValueError):
                continue
    ranked = sorted(((c, w) for c, w in totals.items() if w > 0), key=lambda cw: (-cw[1], cw[0]))
    return ranked[:limit]


def _score_sql(weights: Weights) -> tuple[str, list[float]]:
    """SQL for the variant's exposure score; the stored column when the weights are the defaults."""
    from .services.scoring import default_weights

    if (weights.alpha, weights.w_cold, weights.w_profit, weights.w_fresh) == default_weights():
        return "r.exposure_score", []
    return (
        "(%s * r.popularity_norm + (1 - %s) * "
        "(%s * r.cold_norm + %s * r.profit_norm + %s * r.freshness_norm))",
        [weights.alpha, weights.alpha, weights.w_cold, weights.w_profit, weights.w_fresh],
    )


def serving_candidates(
    *,
    weights: Weights,
    category_ids: list[int] | None,
    pinned_ids: list[int],
    affinity_category_ids: list[int],
    limit: int,
) -> list[Candidate]:
    """Bounded candidate set in one query: top-N by the variant's score, the coldest in-stock products,
    the pinned products and (personalized) the top of each affinity category.

    Every branch walks a partial index on the rankings (in stock when scored); stock and `is_active` are
    then re-checked live for these few hundred rows only, so nothing out of stock is ever returned.
    """
    score, score_params = _score_sql(weights)
    n_top = max(int(settings.EXPOSURE_CANDIDATES), limit * 8)
    n_cold = max(int(settings.EXPOSURE_COLD_CANDIDATES), limit * 2)
    t = {
        "ranking": ProductRanking._meta.db_table,
        "product": Product._meta.db_table,
        "variant": Variant._meta.db_table,
        "stock": StockLevel._meta.db_table,
        "location": Location._meta.db_table,
    }
    # Category pages start from the catalog's index on product.category_id (a subtree holds a few
    # thousand products at most) instead of a second score index that every scoring run would maintain.
    category_filter = (
        f"AND r.product_id IN (SELECT id FROM {Product._meta.db_table} WHERE category_id = ANY(%s))"
        if category_ids is not None
        else ""
    )
    category_params = [category_ids] if category_ids is not None else []
    branches = [
        (
            f"(SELECT r.product_id FROM {t['ranking']} r WHERE r.in_stock {category_filter} "
            f"ORDER BY {score} DESC, r.product_id LIMIT %s)",
            [*category_params, *score_params, n_top],
        ),
        (
            f"(SELECT r.product_id FROM {t['ranking']} r WHERE r.in_stock AND r.cold_score >= %s "
            f"{category_filter} ORDER BY r.cold_score DESC, r.product_id LIMIT %s)",
            [COLD_THRESHOLD, *category_params, n_cold],
        ),
    ]
    if pinned_ids:
        branches.append(("(SELECT unnest(%s::bigint[]))", [pinned_ids]))
    if affinity_category_ids:
        branches.append(
            (
                f"(SELECT r.product_id FROM {t['ranking']} r WHERE r.in_stock AND r.category_id = ANY(%s) "
                f"ORDER BY {score} DESC, r.product_id LIMIT %s)",
                [affinity_category_ids, *score_params, n_top],
            )
        )
    union = " UNION ".join(sql for sql, _ in branches)
    params: list = [p for _, branch_params in branches for p in branch_params]
    live_category = "AND p.category_id = ANY(%s)" if category_ids is not None else ""
    sql = f"""
        WITH ids(product_id) AS ({union})
        SELECT p.id, p.category_id, p.created_at, st.available,
               COALESCE({score}, 0), COALESCE(r.popularity_score, 0), COALESCE(r.popularity_norm, 0),
               COALESCE(r.cold_score, 0), COALESCE(r.cold_norm, 0), COALESCE(r.profit_norm, 0),
               COALESCE(r.freshness_norm, 0), COALESCE(r.profit_score, 0), r.cost IS NOT NULL,
               COALESCE(r.impressions_7d, 0), COALESCE(r.clicks_7d, 0)
        FROM ids
        JOIN {t["product"]} p ON p.id = ids.product_id AND p.is_active {live_category}
        LEFT JOIN {t["ranking"]} r ON r.product_id = p.id
        CROSS JOIN LATERAL (
            SELECT COALESCE(SUM(GREATEST(s.on_hand - s.reserved, 0)), 0)::int AS available
            FROM {t["stock"]} s
            JOIN {t["variant"]} v ON v.id = s.variant_id AND v.is_active AND v.product_id = p.id
            JOIN {t["location"]} l ON l.id = s.location_id AND l.is_sellable
        ) st
        WHERE st.available > 0
    """
    # Placeholders in text order: the union, the score in the select list, then the live category filter.
    params += score_params
    params += [category_ids] if category_ids is not None else []
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Candidate(
            product_id=row[0],
            category_id=row[1],
            created_at=row[2],
            available=row[3],
            score=float(row[4]),
            popularity_score=float(row[5]),
            popularity_norm=float(row[6]),
            cold_score=float(row[7]),
            cold_norm=float(row[8]),
            profit_norm=float(row[9]),
            freshness_norm=float(row[10]),
            profit_score=float(row[11]),
            cost_known=bool(row[12]),
            impressions_7d=int(row[13]),
            clicks_7d=int(row[14]),
            is_cold=float(row[7]) >= COLD_THRESHOLD,
        )
        for row in rows
    ]


def _event_table() -> str:
    return Event._meta.db_table


def ctr_by_position(*, since: datetime | None = None) -> list[dict]:
    """Impressions (served slots × serves), clicks (events carrying the exposure_id) and CTR per position."""
    return _ctr_report("sl.position", since=since)


def ctr_by_reason(*, since: datetime | None = None) -> list[dict]:
    """Impressions, clicks and CTR per slot reason."""
    return _ctr_report("sl.reason", since=since)


def _ctr_report(group: str, *, since: datetime | None) -> list[dict]:
    slot, mix, event = ExposureSlot._meta.db_table, ExposureMix._meta.db_table, _event_table()
    where, params = ("WHERE sl.served_at >= %s", [since]) if since else ("", [])
    sql = f"""
        SELECT {group} AS k, SUM(m.served_count) AS impressions, COALESCE(SUM(c.clicks), 0) AS clicks
        FROM {slot} sl
        JOIN {mix} m ON m.exposure_id = sl.exposure_id
        LEFT JOIN LATERAL (
            SELECT COUNT(*) AS clicks FROM {event} e
            WHERE e.exposure_id = sl.exposure_id AND e.product_id = sl.product_id AND e.type = 'click'
        ) c ON true
        {where}
        GROUP BY {group} ORDER BY {group}
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    report = []
    for key, impressions, clicks in rows:
        impressions, clicks = int(impressions or 0), int(clicks or 0)
        report.append(
            {
                "key": key,
                "impressions": impressions,
                "clicks": clicks,
                "ctr": clicks / impressions if impressions else 0.0,
            }
        )
    return report


def experiment_report(*, since: datetime | None = None) -> list[dict]:
    """Per variant: impressions, clicks, exposure_hit_ratio (clicks / impressions), purchases attributed
    through the exposure_id and conversion (purchases / clicks)."""
    slot, mix, event = ExposureSlot._meta.db_table, ExposureMix._meta.db_table, _event_table()
    where, params = ("WHERE m.generated_at >= %s", [since]) if since else ("", [])
    sql = f"""
        WITH served AS (
            SELECT m.experiment_key, m.variant, SUM(m.served_count * n.slots) AS impressions
            FROM {mix} m
            JOIN (SELECT exposure_id, COUNT(*) AS slots FROM {slot} GROUP BY exposure_id) n
              ON n.exposure_id = m.exposure_id
            {where}
            GROUP BY m.experiment_key, m.variant
        ),
        acted AS (
            SELECT m.experiment_key, m.variant,
                   COUNT(*) FILTER (WHERE e.type = 'click') AS clicks,
                   COUNT(*) FILTER (WHERE e.type = 'purchase') AS purchases
            FROM {event} e JOIN {mix} m ON m.exposure_id = e.exposure_id
            {where}
            GROUP BY m.experiment_key, m.variant
        )
        SELECT s.experiment_key, s.variant, s.impressions, COALESCE(a.clicks, 0), COALESCE(a.purchases, 0)
        FROM served s LEFT JOIN acted a ON a.experiment_key = s.experiment_key AND a.variant = s.variant
        ORDER BY s.experiment_key, s.variant
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params * 2)
        rows = cursor.fetchall()
    report = []
    for experiment, variant, impressions, clicks, purchases in rows:
        impressions, clicks, purchases = int(impressions or 0), int(clicks), int(purchases)
        report.append(
            {
                "experiment": experiment,
                "variant": variant,
                "impressions": impressions,
                "clicks": clicks,
                "purchases": purchases,
                "exposure_hit_ratio": clicks / impressions if impressions else 0.0,
                "conversion_rate": purchases / clicks if clicks else 0.0,
            }
        )
    return report
