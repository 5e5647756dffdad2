"""Query-string filters for the inventory lists."""

import django_filters
from django.db.models import QuerySet

from ..models import ReorderAlert, StockLevel, StockMovement
from ..selectors import stock_levels_below_reorder


class StockMovementFilter(django_filters.FilterSet):
    variant = django_filters.NumberFilter(field_name="variant_id")
    location = django_filters.NumberFilter(field_name="location_id")
    kind = django_filters.ChoiceFilter(choices=StockMovement.Kind.choices)
    reference = django_filters.CharFilter(field_name="reference", help_text="e.g. an order number")

    class Meta:
        model = StockMovement
        fields = ["variant", "location", "kind", "reference"]


class StockLevelFilter(django_filters.FilterSet):
    variant = django_filters.NumberFilter(field_name="variant_id")
    location = django_filters.NumberFilter(field_name="location_id")
    below_reorder = django_filters.BooleanFilter(
        method="filter_below_reorder", label="Only levels at or below their (non-zero) reorder point."
    )

    class Meta:
        model = StockLevel
        fields = ["variant", "location", "below_reorder"]

    def filter_below_reorder(self, queryset: QuerySet, name: str, value: bool | None) -> QuerySet:
        below = stock_levels_below_reorder(queryset)
        if value is None:
            return queryset
        return below if value else queryset.exclude(pk__in=below.values("pk"))


class ReorderAlertFilter(django_filters.FilterSet):
    variant = django_filters.NumberFilter(field_name="stock_level__variant_id")
    location = django_filters.NumberFilter(field_name="stock_level__location_id")

    class Meta:
        model = ReorderAlert
        fields = ["variant", "location"]
