from datetime import timedelta

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from . import selectors
from .models import ExposureExperiment, ExposurePin, ExposureVariant, ProductRanking
from .services.pins import experiment_changed, pin_delete, pin_save
from .services.reports import ctr_gauges_refresh


@admin.register(ExposurePin)
class ExposurePinAdmin(admin.ModelAdmin):
    list_display = ("product", "context", "category", "position", "starts_at", "ends_at", "created_at")
    list_filter = ("context",)
    list_select_related = ("product", "category")
    raw_id_fields = ("product", "category")
    readonly_fields = ("created_by", "created_at")
    search_fields = ("product__name",)

    def save_model(self, request: HttpRequest, obj: ExposurePin, form, change: bool) -> None:
        if not change:
            obj.created_by = request.user
        pin_save(pin=obj)

    def delete_model(self, request: HttpRequest, obj: ExposurePin) -> None:
        pin_delete(pin=obj)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for pin in queryset:
            pin_delete(pin=pin)


class ExposureVariantInline(admin.TabularInline):
    model = ExposureVariant
    extra = 0
    min_num = 1
    fields = ("key", "traffic_share", "alpha", "w_cold", "w_profit", "w_fresh")


@admin.register(ExposureExperiment)
class ExposureExperimentAdmin(admin.ModelAdmin):
    list_display = ("key", "name", "is_active", "created_at")
    list_filter = ("is_active",)
    search_fields = ("key", "name")
    inlines = [ExposureVariantInline]

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        experiment_changed(experiment=form.instance)

    def delete_model(self, request: HttpRequest, obj: ExposureExperiment) -> None:
        super().delete_model(request, obj)
        experiment_changed()


@admin.register(ProductRanking)
class ProductRankingAdmin(admin.ModelAdmin):
    """Read-only: rankings are written by the scoring job only."""

    list_display = (
        "product",
        "exposure_score",
        "popularity_score",
        "cold_score",
        "profit_score",
        "freshness_score",
        "in_stock",
        "impressions_7d",
        "computed_at",
    )
    list_filter = ("in_stock",)
    list_select_related = ("product",)
    search_fields = ("product__name",)
    ordering = ("-exposure_score", "product_id")
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_urls(self):
        report = path(
            "ctr-report/",
            self.admin_site.admin_view(self.ctr_report_view),
            name="exposure_ctr_report",
        )
        return [report, *super().get_urls()]

    def ctr_report_view(self, request: HttpRequest) -> HttpResponse:
        """CTR by position and reason, and hit ratio / conversion per A/B variant (last N days)."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            days = max(1, min(int(request.GET.get("days", 7)), 90))
        except ValueError:
            days = 7
        since = timezone.now() - timedelta(days=days)
        context = {
            **self.admin_site.each_context(request),
            "title": "Exposure CTR report",
            "opts": self.model._meta,
            "days": days,
            "by_position": ctr_gauges_refresh(days=days),
            "by_reason": selectors.ctr_by_reason(since=since),
            "by_variant": selectors.experiment_report(since=since),
        }
        return TemplateResponse(request, "admin/exposure/ctr_report.html", context)
