"""Rebate writes: agreements with their tiers, and monthly accruals."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.purchasing.models import Supplier
from shop.exceptions import ValidationFailed

from .models import RebateAccrual, RebateAgreement, RebateTier
from .selectors import rebate_amount_through


@dataclass(frozen=True)
class TierInput:
    threshold: Decimal
    rate_percent: Decimal


def _check(*, period_start: date, period_end: date, mode: str, tiers: Sequence[TierInput]) -> None:
    errors: dict[str, Any] = {}
    if period_end < period_start:
        errors["period_end"] = ["Must be on or after the period start."]
    if mode not in RebateAgreement.Mode.values:
        errors["mode"] = [f"Must be one of: {', '.join(RebateAgreement.Mode.values)}."]
    if not tiers:
        errors["tiers"] = ["At least one tier is required."]
    tier_errors: dict[str, dict[str, list[str]]] = {}
    seen: set[Decimal] = set()
    for index, tier in enumerate(tiers):
        if tier.threshold < 0:
            tier_errors.setdefault(str(index), {})["threshold"] = ["Must be zero or more."]
        if not Decimal("0") <= tier.rate_percent <= Decimal("100"):
            tier_errors.setdefault(str(index), {})["rate_percent"] = ["Must be between 0 and 100."]
        if tier.threshold in seen:
            tier_errors.setdefault(str(index), {})["threshold"] = ["Another tier has this threshold."]
        seen.add(tier.threshold)
    if tier_errors:
        errors["tiers"] = tier_errors
    if errors:
        raise ValidationFailed(details=errors)


def _set_scope(
    agreement: RebateAgreement, categories: Iterable, brands: Iterable, products: Iterable
) -> None:
    agreement.categories.set(categories)
    agreement.brands.set(brands)
    agreement.products.set(products)


@transaction.atomic
def rebate_agreement_create(
    *,
    supplier: Supplier,
    name: str,
    period_start: date,
    period_end: date,
    tiers: Sequence[TierInput],
    mode: str = RebateAgreement.Mode.RETROACTIVE,
    categories: Iterable = (),
    brands: Iterable = (),
    products: Iterable = (),
    is_active: bool = True,
) -> RebateAgreement:
    """Create an agreement with its tiers and optional scope (categories include their sub-categories)."""
    _check(period_start=period_start, period_end=period_end, mode=mode, tiers=tiers)
    agreement = RebateAgreement.objects.create(
        supplier=supplier,
        name=name,
        period_start=period_start,
        period_end=period_end,
        mode=mode,
        is_active=is_active,
    )
    RebateTier.objects.bulk_create(
        [RebateTier(agreement=agreement, threshold=t.threshold, rate_percent=t.rate_percent) for t in tiers]
    )
    _set_scope(agreement, categories, brands, products)
    return agreement


@transaction.atomic
def rebate_agreement_update(
    *,
    agreement: RebateAgreement,
    tiers: Sequence[TierInput] | None = None,
    categories: Iterable | None = None,
    brands: Iterable | None = None,
    products: Iterable | None = None,
    **fields: Any,
) -> RebateAgreement:
    """Change an agreement's terms; given tiers replace the old ones, given scopes replace theirs."""
    allowed = {"supplier", "name", "period_start", "period_end", "mode", "is_active"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationFailed(details={key: ["Unknown field."] for key in sorted(unknown)})
    agreement = RebateAgreement.objects.select_for_update().get(pk=agreement.pk)
    for key, value in fields.items():
        setattr(agreement, key, value)
    current = [TierInput(t.threshold, t.rate_percent) for t in agreement.tiers.all()]
    _check(
        period_start=agreement.period_start,
        period_end=agreement.period_end,
        mode=agreement.mode,
        tiers=current if tiers is None else tiers,
    )
    agreement.save()
    if tiers is not None:
        agreement.tiers.all().delete()
        RebateTier.objects.bulk_create(
            [
                RebateTier(agreement=agreement, threshold=t.threshold, rate_percent=t.rate_percent)
                for t in tiers
            ]
        )
    if categories is not None:
        agreement.categories.set(categories)
    if brands is not None:
        agreement.brands.set(brands)
    if products is not None:
        agreement.products.set(products)
    return agreement


def _month_bounds(month: date) -> tuple[date, date]:
    first = month.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return first, last


def rebate_accruals_record(*, month: date | None = None) -> list[RebateAccrual]:
    """Record what each active agreement earned in `month` (default: last month, UTC).

    Accrual = rebate accumulated through the month's end minus rebate accumulated before it, so a
    retroactive tier reached mid-period trues up the earlier months in the month it is reached, and
    the accruals of a period add up to its final statement. Idempotent: one row per agreement and
    month (unique), recomputed in place when run again.
    """
    if month is None:
        month = timezone.now().date().replace(day=1) - timedelta(days=1)
    first, last = _month_bounds(month)
    agreements = list(
        RebateAgreement.objects.filter(
            is_active=True, period_start__lte=last, period_end__gte=first
        ).prefetch_related("tiers")
    )
    now = timezone.now()
    rows = []
    for agreement in agreements:
        basis_end, through_end = rebate_amount_through(agreement=agreement, end=last)
        basis_before, before = rebate_amount_through(agreement=agreement, end=first - timedelta(days=1))
        rows.append(
            RebateAccrual(
                agreement=agreement,
                period=first,
                # The month's basis is the difference of the two cumulative ones (exact: cent amounts).
                basis_amount=basis_end - basis_before,
                rebate_amount=through_end - before,
                computed_at=now,
            )
        )
    with transaction.atomic():
        RebateAccrual.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["agreement", "period"],
            update_fields=["basis_amount", "rebate_amount", "computed_at"],
        )
    return list(RebateAccrual.objects.filter(period=first, agreement__in=agreements).order_by("agreement_id"))
