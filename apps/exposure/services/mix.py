"""The exposure engine: builds, caches, persists and explains product mixes.

Rules, in order: active pins at their positions; only active products in stock; no product twice; a
per-category cap (pins count toward it); cold-boost slots chosen by Thompson sampling among cold in-stock
products, seeded by (cohort, hour) so regenerated pages are stable; then the highest exposure score.
"""

import hashlib
import logging
import math
import random
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.catalog.selectors import category_subtree_ids
from apps.exposure import metrics
from apps.exposure.models import ExposureContext, ExposureMix, ExposureSlot, SlotReason
from apps.exposure.selectors import (
    Candidate,
    Weights,
    category_affinities,
    experiment_active_weights,
    pins_active,
    serving_candidates,
)
from shop.exceptions import ValidationFailed

from .cache import cache_get, cache_set, cache_version
from .scoring import default_weights, hour_floor

logger = logging.getLogger("apps.exposure")

MAX_LIMIT = 50
DEFAULT_LIMIT = 12
CAP_BASE_SLOTS = 12  # EXPOSURE_CATEGORY_CAP is "per 12 slots"
DEFAULT_VARIANT = "default"
TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True)
class MixRequest:
    context: str
    category_id: int | None = None
    limit: int = DEFAULT_LIMIT
    customer_id: int | None = None
    anonymous_id: str = ""


# --- A/B cohorts --------------------------------------------------------------------------------------

_experiments: dict[str, Any] = {}
_experiments_lock = threading.Lock()


def _experiment_for(version: str) -> tuple[str, list[tuple[Weights, int]]] | None:
    """The active experiment, memoised per cache version (experiment edits bump the version)."""
    with _experiments_lock:
        if version in _experiments:
            return _experiments[version]
    loaded = experiment_active_weights()
    with _experiments_lock:
        if len(_experiments) > 8:
            _experiments.clear()
        _experiments[version] = loaded
    return loaded


def subject_of(*, customer_id: int | None, anonymous_id: str) -> str | None:
    """Stable visitor identity for cohorts: the customer when signed in, else the anonymous id."""
    if customer_id:
        return f"c:{customer_id}"
    if anonymous_id:
        return f"a:{anonymous_id}"
    return None


def cohort_assign(*, experiment_key: str, variants: list[tuple[Weights, int]], subject: str) -> Weights:
    """Deterministic variant: sha256(experiment key + subject) mod total traffic share."""
    total = sum(share for _, share in variants)
    digest = hashlib.sha256(f"{experiment_key}:{subject}".encode()).hexdigest()
    point = int(digest[:15], 16) % total
    for weights, share in variants:
        if point < share:
            return weights
        point -= share
    return variants[-1][0]  # unreachable: shares are positive


def weights_for(*, version: str, subject: str | None) -> Weights:
    """The visitor's variant weights; the settings' weights (variant "default") without an experiment
    or without a visitor id to hash."""
    experiment = _experiment_for(version)
    if experiment is None or subject is None:
        alpha, w_cold, w_profit, w_fresh = default_weights()
        return Weights(DEFAULT_VARIANT, alpha, w_cold, w_profit, w_fresh)
    key, variants = experiment
    return cohort_assign(experiment_key=key, variants=variants, subject=subject)


# --- Served counts -------------------------------------------------------------------------------------

_served: Counter[str] = Counter()
_served_lock = threading.Lock()
_served_state = {"flushed_at": time.monotonic()}
SERVED_FLUSH_SECONDS = 5.0


def mix_served_flush() -> int:
    """Add the cache hits counted in this process to ExposureMix.served_count (one UPDATE)."""
    with _served_lock:
        pending = dict(_served)
        _served.clear()
        _served_state["flushed_at"] = time.monotonic()
    if not pending:
        return 0
    values = ", ".join(["(%s::uuid, %s::int)"] * len(pending))
    params: list[Any] = [x for item in pending.items() for x in item]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {ExposureMix._meta.db_table} m SET served_count = m.served_count + v.n "
            f"FROM (VALUES {values}) AS v(id, n) WHERE m.exposure_id = v.id",
            params,
        )
    return len(pending)


def _count_served(exposure_id: str) -> None:
    with _served_lock:
        _served[exposure_id] += 1
        due = time.monotonic() - _served_state["flushed_at"] >= SERVED_FLUSH_SECONDS
    if due:
        try:
            mix_served_flush()
        except Exception:  # analytics must never break serving
            logger.exception("exposure_served_flush_failed")


def _count_reasons(mix: list[dict]) -> None:
    for reason, count in Counter(slot["reason"] for slot in mix).items():
        metrics.ITEMS_SERVED.labels(reason=reason).inc(count)


# --- Mix assembly --------------------------------------------------------------------------------------


def category_cap(*, limit: int, subtree_size: int | None) -> int:
    """Per-category cap: EXPOSURE_CATEGORY_CAP per 12 slots, scaled with the limit (at least 1).

    On a category page with few sub-categories the cap is raised to ceil(limit / categories), otherwise a
    leaf category could never fill its own page.
    """
    cap = max(1, math.ceil(settings.EXPOSURE_CATEGORY_CAP * limit / CAP_BASE_SLOTS))
    if subtree_size:
        cap = max(cap, math.ceil(limit / subtree_size))
    return cap


def _reason(candidate: Candidate, weights: Weights) -> str:
    """The dominant weighted component (cold only surfaces through cold-boost slots)."""
    parts = {
        SlotReason.POPULAR: weights.alpha * candidate.popularity_norm,
        SlotReason.PROFIT: (1 - weights.alpha) * weights.w_profit * candidate.profit_norm,
        SlotReason.FRESH: (1 - weights.alpha) * weights.w_fresh * candidate.freshness_norm,
    }
    best = max(parts.values())
    if best <= 0:
        return SlotReason.POPULAR
    return next(reason for reason, value in parts.items() if value == best)


def _badges(candidate: Candidate, now: datetime) -> list[str]:
    rules = settings.EXPOSURE_BADGES
    badges = []
    if candidate.created_at >= now - timedelta(days=rules["new_days"]):
        badges.append("new")
    if candidate.popularity_score > 0 and candidate.popularity_norm >= rules["hot_popularity"]:
        badges.append("hot")
    if candidate.available <= rules["low_stock_units"]:
        badges.append("low_stock")
    if candidate.cost_known and candidate.profit_score <= rules["deal_max_margin"]:
        badges.append("deal")
    return badges


def _cold_positions(free: list[int], k: int, limit: int) -> list[int]:
    """Spread k cold slots over the mix (e.g. 4 and 8 of 12), taking the next free position."""
    chosen: list[int] = []
    for i in range(k):
        target = max(1, round((i + 1) * limit / (k + 1)))
        options = [p for p in free if p >= target and p not in chosen] or [p for p in free if p not in chosen]
        if options:
            chosen.append(options[0])
    return chosen


def assemble(
    *,
    candidates: list[Candidate],
    pins: list,
    weights: Weights,
    limit: int,
    cap: int,
    seed: str,
    affinity: dict[int, float],
    now: datetime,
) -> list[dict]:
    """Apply the rules to a candidate set and return the slots ordered by position."""
    by_id = {c.product_id: c for c in candidates}
    slots: dict[int, tuple[Candidate, str]] = {}
    used: set[int] = set()
    per_category: Counter[int] = Counter()

    def place(position: int, candidate: Candidate, reason: str) -> None:
        slots[position] = (candidate, reason)
        used.add(candidate.product_id)
        per_category[candidate.category_id] += 1

    # 1. Pins win their positions (merchant intent) but count toward the category cap.
    for pin in pins:
        candidate = by_id.get(pin.product_id)
        if pin.position > limit or pin.position in slots or candidate is None or pin.product_id in used:
            continue
        place(pin.position, candidate, SlotReason.PINNED)

    # 2. Cold boost: Thompson sampling on Beta(1 + clicks, 1 + impressions − clicks), seeded per cohort/hour.
    free = [p for p in range(1, limit + 1) if p not in slots]
    k = min(int(settings.EXPOSURE_COLD_SLOTS), len(free))
    if k > 0:
        rng = random.Random(seed)
        pool = sorted(
            (c for c in candidates if c.is_cold and c.product_id not in used), key=lambda c: c.product_id
        )
        sampled = sorted(
            pool,
            key=lambda c: rng.betavariate(1 + c.clicks_7d, 1 + max(c.impressions_7d - c.clicks_7d, 0)),
            reverse=True,
        )
        positions = _cold_positions(free, k, limit)
        for candidate in sampled:
            if not positions:
                break
            if per_category[candidate.category_id] >= cap:
                continue
            place(positions.pop(0), candidate, SlotReason.COLD_BOOST)

    # 3. The rest by score (personalized: boosted by the visitor's affinity to the category).
    def ranked_score(c: Candidate) -> float:
        return c.score * (1 + affinity.get(c.category_id, 0.0))

    rest = sorted(candidates, key=lambda c: (-ranked_score(c), c.product_id))
    free = [p for p in range(1, limit + 1) if p not in slots]
    it = iter(rest)
    for position in free:
        for candidate in it:
            if candidate.product_id in used or per_category[candidate.category_id] >= cap:
                continue
            reason = (
                SlotReason.PERSONALIZED if candidate.category_id in affinity else _reason(candidate, weights)
            )
            place(position, candidate, reason)
            break

    # Short mix (few candidates): close the gaps left by spread-out cold slots; pins keep their positions.
    pinned = {p: v for p, v in slots.items() if v[1] == SlotReason.PINNED}
    movable = [v for p, v in sorted(slots.items()) if v[1] != SlotReason.PINNED]
    open_positions = [p for p in range(1, limit + 1) if p not in pinned]
    slots = {**pinned, **dict(zip(open_positions, movable, strict=False))}
    return [
        {
            "position": position,
            "product_id": candidate.product_id,
            "reason": str(reason),
            "badges": _badges(candidate, now),
            "score": round(candidate.score, 6),
        }
        for position, (candidate, reason) in sorted(slots.items())
    ]


def _validate(request: MixRequest) -> MixRequest:
    errors: dict[str, list[str]] = {}
    if request.context not in ExposureContext.values:
        errors["context"] = [f"Must be one of: {', '.join(ExposureContext.values)}."]
    if not 1 <= request.limit <= MAX_LIMIT:
        errors["limit"] = [f"Must be between 1 and {MAX_LIMIT}."]
    if request.context == ExposureContext.CATEGORY and request.category_id is None:
        errors["category_id"] = ["Required for the category context."]
    if errors:
        raise ValidationFailed(details=errors)
    return request


def _persist(*, payload: dict, weights: Weights, category_id: int | None, now: datetime) -> None:
    exposure_id = uuid.UUID(payload["exposure_id"])
    with transaction.atomic():
        ExposureMix.objects.create(
            exposure_id=exposure_id,
            context=payload["context"],
            category_id=category_id,
            variant=weights.variant,
            experiment_key=weights.experiment_key,
            generated_at=now,
            expires_at=now + timedelta(seconds=settings.EXPOSURE_TTL_SEC),
        )
        ExposureSlot.objects.bulk_create(
            [
                ExposureSlot(
                    exposure_id=exposure_id,
                    position=slot["position"],
                    product_id=slot["product_id"],
                    reason=slot["reason"],
                    score=slot["score"],
                    variant=weights.variant,
                    context=payload["context"],
                    served_at=now,
                )
                for slot in payload["mix"]
            ]
        )


def _build(
    *, request: MixRequest, weights: Weights, subject: str | None, affinities: list[tuple[int, float]]
) -> dict:
    now = timezone.now()
    context = request.context
    category_ids: list[int] | None = None
    if context == ExposureContext.CATEGORY:
        # Checked on a cache miss only: a cached page exists only for a category that existed.
        category_ids = category_subtree_ids(category_id=request.category_id)
        if not category_ids:
            raise ValidationFailed(details={"category_id": ["Unknown category."]})
    affinity: dict[int, float] = {}
    if context == ExposureContext.PERSONALIZED and affinities:
        top = affinities[0][1]
        affinity = {category_id: weight / top for category_id, weight in affinities}
    pins = pins_active(context=context, category_id=request.category_id, now=now)
    candidates = serving_candidates(
        weights=weights,
        category_ids=category_ids,
        pinned_ids=sorted({p.product_id for p in pins}),
        affinity_category_ids=sorted(affinity),
        limit=request.limit,
    )
    cohort = weights.variant if context != ExposureContext.PERSONALIZED else f"{weights.variant}:{subject}"
    seed = f"{weights.experiment_key}:{cohort}:{context}:{request.category_id}:{hour_floor(now).isoformat()}"
    mix = assemble(
        candidates=candidates,
        pins=pins,
        weights=weights,
        limit=request.limit,
        cap=category_cap(limit=request.limit, subtree_size=len(category_ids) if category_ids else None),
        seed=seed,
        affinity=affinity,
        now=now,
    )
    # JSON-ready (the cached value is returned as is): timestamps in the API's format.
    payload = {
        "exposure_id": str(uuid.uuid4()),
        "context": str(context),
        "variant": weights.variant,
        "generated_at": now.strftime(TIMESTAMP_FORMAT),
        "expires_at": (now + timedelta(seconds=settings.EXPOSURE_TTL_SEC)).strftime(TIMESTAMP_FORMAT),
        "mix": mix,
    }
    _persist(payload=payload, weights=weights, category_id=request.category_id, now=now)
    _count_reasons(mix)
    return payload


def exposure_get(
    *,
    context: str,
    category_id: int | None = None,
    limit: int = DEFAULT_LIMIT,
    customer_id: int | None = None,
    anonymous_id: str = "",
    use_cache: bool = True,
) -> dict:
    """Serve a mix for a context: from the cache when fresh, else built, persisted and cached.

    Returns {exposure_id, context, variant, generated_at, expires_at, cache_hit, mix}. A personalized
    request without affinities (or without a visitor id) is answered with the home mix (context "home").
    """
    started = time.perf_counter()
    request = _validate(MixRequest(context, category_id, limit, customer_id, (anonymous_id or "")[:64]))
    subject = subject_of(customer_id=request.customer_id, anonymous_id=request.anonymous_id)
    version, fallback = cache_version()
    weights = weights_for(version=version, subject=subject)

    affinities: list[tuple[int, float]] = []
    key_subject = "-"
    if request.context == ExposureContext.PERSONALIZED:
        key_subject = hashlib.sha1((subject or "").encode()).hexdigest()[:16] if subject else "-"
        cache_key = f"exposure:mix:{version}:personalized:{key_subject}:{request.limit}:{weights.variant}"
        cached = cache_get(cache_key, fallback=fallback) if use_cache and subject else None
        if cached is None:
            affinities = (
                category_affinities(
                    customer_id=request.customer_id, anonymous_id=request.anonymous_id, now=timezone.now()
                )
                if subject
                else []
            )
            if not affinities:
                request = MixRequest(ExposureContext.HOME.value, None, request.limit)
    if request.context != ExposureContext.PERSONALIZED:
        where = f"{request.context}:{request.category_id or '-'}"
        cache_key = f"exposure:mix:{version}:{where}:{request.limit}:{weights.variant}"
        cached = cache_get(cache_key, fallback=fallback) if use_cache else None

    personal_key = f"exposure:mix:{version}:personalized:{key_subject}:{request.limit}:{weights.variant}"
    remember_fallback = use_cache and key_subject != "-" and request.context == ExposureContext.HOME
    if cached is not None:
        metrics.CACHE_EVENTS.labels(result="fallback_hit" if fallback else "hit").inc()
        if remember_fallback:
            cache_set(personal_key, cached, ttl=int(settings.EXPOSURE_TTL_SEC), fallback=fallback)
        _count_served(cached["exposure_id"])
        _count_reasons(cached["mix"])
        payload, hit = cached, True
    else:
        metrics.CACHE_EVENTS.labels(result="miss").inc()
        payload = _build(request=request, weights=weights, subject=subject, affinities=affinities)
        if use_cache:
            cache_set(cache_key, payload, ttl=int(settings.EXPOSURE_TTL_SEC), fallback=fallback)
        if remember_fallback:
            # The home mix also under the visitor's key, so the affinity lookup is not repeated.
            cache_set(personal_key, payload, ttl=int(settings.EXPOSURE_TTL_SEC), fallback=fallback)
        hit = False
    metrics.LATENCY.labels(context=payload["context"], cache="hit" if hit else "miss").observe(
        time.perf_counter() - started
    )
    return {**payload, "cache_hit": hit}
