"""Back-office views of the engagement aggregates (read-only: only the rollup writes them)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.engagement.models import CustomerEngagementDaily, ProductEngagementDaily


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(ProductEngagementDaily)
class ProductEngagementDailyAdmin(ReadOnlyAdmin):
    list_display = ("day", "product", "views", "clicks", "add_to_cart", "purchases", "ctr_percent")
    list_filter = ("day",)
    date_hierarchy = "day"
    search_fields = ("product__name", "=product__id")
    list_select_related = ("product",)
    ordering = ("-day", "-views")
    show_full_result_count = False

    @admin.display(description="CTR", ordering="ctr")
    def ctr_percent(self, obj: ProductEngagementDaily) -> str:
        return f"{obj.ctr:.2%}"


@admin.register(CustomerEngagementDaily)
class CustomerEngagementDailyAdmin(ReadOnlyAdmin):
    list_display = ("day", "customer", "anonymous_id", "views", "clicks", "add_to_cart", "purchases")
    list_filter = ("day",)
    date_hierarchy = "day"
    search_fields = ("customer__email", "=anonymous_id")
    list_select_related = ("customer",)
    ordering = ("-day", "-views")
    show_full_result_count = False
