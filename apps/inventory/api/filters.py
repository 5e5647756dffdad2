"""Query-string filters for the inventory lists."""

import django_filters
from django import forms
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from ..models import ReorderAlert, StockLevel, StockMovement
from ..selectors import stock_levels_below_reorder


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(django_filters.NumberFilter):
    """An id in the query string (`?variant=12`); anything else is a 400."""

    field_class = forms.IntegerField


class StrictBooleanField(forms.Field):
    """`true`/`false` (or 1/0); anything else is invalid rather than silently ignored."""

    def to_python(self, value: object) -> bool | None:
        if value in (None, ""):
            return None
        text = str(value).lower()
        if text in ("true", "1"):
            return True
        if text in ("false", "0"):
            return False
        raise forms.ValidationError("Must be true or false.")


@extend_schema_field(OpenApiTypes.BOOL)
class FlagFilter(django_filters.BooleanFilter):
    """`true` / `false` in the query string."""

    field_class = StrictBooleanField


class StockMovementFilter(django_filters.FilterSet):
    variant = IdFilter(field_name="variant_id")
    location = IdFilter(field_name="location_id")
    kind = django_filters.ChoiceFilter(choices=StockMovement.Kind.choices)
    reference = django_filters.CharFilter(field_name="reference", help_text="e.g. an order number")

    class Meta:
        model = StockMovement
        fields = ["variant", "location", "kind", "reference"]


class StockLevelFilter(django_filters.FilterSet):
    variant = IdFilter(field_name="variant_id")
    location = IdFilter(field_name="location_id")
    below_reorder = FlagFilter(
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
    variant = IdFilter(field_name="stock_level__variant_id")
    location = IdFilter(field_name="stock_level__location_id")

    class Meta:
        model = ReorderAlert
        fields = ["variant", "location"]
