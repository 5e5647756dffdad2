"""Rebate reads: the basis (received purchase value in scope) and the tiered statement.

Basis = Σ received units × unit cost over purchase-order receipts from the agreement's supplier,
dated (UTC) within the period and up to `as_of`, restricted to the agreement's scope if it has one.
Receipts are dated rows (apps.purchasing PurchaseOrderReceipt), so an order received across a
period boundary counts on each side for what actually arrived there.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import DecimalField, ExpressionWrapper, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from apps.catalog.selectors import category_subtree_ids
from apps.purchasing.models import PurchaseOrderReceipt

from .models import RebateAgreement, RebateTier

CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Tier:
    threshold: Decimal
    rate_percent: Decimal


@dataclass(frozen=True)
class NextTier:
    threshold: Decimal
    rate_percent: Decimal
    gap: Decimal


@dataclass(frozen=True)
class RebateStatement:
    agreement_id: int
    as_of: date
    basis_amount: Decimal
    tier: Tier | None
    rate_percent: Decimal
    rebate_amount: Decimal
    next_tier: NextTier | None


def rebate_agreement_list() -> QuerySet[RebateAgreement]:
    """Agreements with tiers and scope loaded."""
    return RebateAgreement.objects.prefetch_related(
        Prefetch("tiers", queryset=RebateTier.objects.order_by("threshold")),
        "categories",
        "brands",
        "products",
    ).order_by("-period_start", "name", "pk")


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def rebate_basis(*, agreement: RebateAgreement, start: date, end: date) -> Decimal:
    """Received value in scope from `start` to `end` inclusive (UTC days), clipped to the period."""
    start, end = max(start, agreement.period_start), min(end, agreement.period_end)
    if end < start:
        return ZERO
    receipts = PurchaseOrderReceipt.objects.filter(
        line__order__supplier_id=agreement.supplier_id,
        received_at__gte=_day_start(start),
        received_at__lt=_day_start(end + timedelta(days=1)),
    )
    category_ids = list(agreement.categories.values_list("pk", flat=True))
    brand_ids = list(agreement.brands.values_list("pk", flat=True))
    product_ids = list(agreement.products.values_list("pk", flat=True))
    if category_ids or brand_ids or product_ids:
        subtree = {cid for root in category_ids for cid in category_subtree_ids(category_id=root)}
        scope = Q(pk__in=[])
        if subtree:
            scope |= Q(line__variant__product__category_id__in=subtree)
        if brand_ids:
            scope |= Q(line__variant__product__brand_id__in=brand_ids)
        if product_ids:
            scope |= Q(line__variant__product_id__in=product_ids)
        receipts = receipts.filter(scope)
    value = ExpressionWrapper(
        F("quantity") * F("unit_cost"), output_field=DecimalField(max_digits=14, decimal_places=2)
    )
    total = receipts.aggregate(total=Sum(value))["total"]
    return Decimal(total or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def rebate_compute(
    *, tiers: Sequence[Tier], basis: Decimal, mode: str
) -> tuple[Tier | None, Decimal, NextTier | None]:
    """Apply tiers to a basis: (tier reached, rebate amount, next tier).

    A tier is reached when the basis is at or above its threshold. Retroactive: the whole basis at
    the reached tier's rate. Marginal: each slice between consecutive thresholds at its own tier's
    rate (like income tax brackets); each slice is rounded half-up to the cent.
    """
    ordered = sorted(tiers, key=lambda t: t.threshold)
    reached = next((t for t in reversed(ordered) if basis >= t.threshold), None)
    upcoming = next((t for t in ordered if t.threshold > basis), None)
    next_tier = (
        NextTier(
            threshold=upcoming.threshold, rate_percent=upcoming.rate_percent, gap=upcoming.threshold - basis
        )
        if upcoming
        else None
    )
    if reached is None:
        return None, ZERO, next_tier
    if mode == RebateAgreement.Mode.RETROACTIVE:
        amount = (basis * reached.rate_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
        return reached, amount, next_tier
    amount = ZERO
    for index, tier in enumerate(ordered):
        if basis <= tier.threshold:
            break
        upper = ordered[index + 1].threshold if index + 1 < len(ordered) else basis
        piece = min(basis, upper) - tier.threshold
        amount += (piece * tier.rate_percent / 100).quantize(CENT, rounding=ROUND_HALF_UP)
    return reached, amount, next_tier


def _tiers(agreement: RebateAgreement) -> list[Tier]:
    return [Tier(threshold=t.threshold, rate_percent=t.rate_percent) for t in agreement.tiers.all()]


def rebate_amount_through(*, agreement: RebateAgreement, end: date) -> tuple[Decimal, Decimal]:
    """(basis, rebate) accumulated from the period start up to `end` inclusive."""
    basis = rebate_basis(agreement=agreement, start=agreement.period_start, end=end)
    _, amount, _ = rebate_compute(tiers=_tiers(agreement), basis=basis, mode=agreement.mode)
    return basis, amount


def rebate_statement(agreement: RebateAgreement, *, as_of: date | None = None) -> RebateStatement:
    """Where an agreement stands on `as_of` (default today, UTC): basis, tier, rebate, next tier."""
    as_of = as_of or timezone.now().date()
    basis = rebate_basis(agreement=agreement, start=agreement.period_start, end=as_of)
    tier, amount, next_tier = rebate_compute(tiers=_tiers(agreement), basis=basis, mode=agreement.mode)
    return RebateStatement(
        agreement_id=agreement.pk,
        as_of=as_of,
        basis_amount=basis,
        tier=tier,
        rate_percent=tier.rate_percent if tier else Decimal("0.00"),
        rebate_amount=amount,
        next_tier=next_tier,
    )
