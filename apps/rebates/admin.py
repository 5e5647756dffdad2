"""Back office for rebate agreements: tiers inline, statement shown on the agreement page."""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from apps.catalog.models import Brand, Category, Product

from . import selectors, services
from .models import RebateAccrual, RebateAgreement, RebateTier


def _searchable(model: type) -> bool:
    # Catalog admins register first (INSTALLED_APPS order); autocomplete only where they allow it.
    model_admin = admin.site._registry.get(model)
    return bool(model_admin and model_admin.search_fields)


class RebateTierInline(admin.TabularInline):
    model = RebateTier
    fields = ("threshold", "rate_percent")
    extra = 0
    min_num = 1


class RebateAccrualInline(admin.TabularInline):
    model = RebateAccrual
    fields = ("period", "basis_amount", "rebate_amount", "computed_at")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "monthly accruals"

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(RebateAgreement)
class RebateAgreementAdmin(admin.ModelAdmin):
    list_display = ("name", "supplier", "period_start", "period_end", "mode", "is_active")
    list_filter = ("is_active", "mode", "supplier")
    list_select_related = ("supplier",)
    search_fields = ("name", "supplier__name")
    autocomplete_fields = (
        "supplier",
        *[
            n
            for n, m in (("categories", Category), ("brands", Brand), ("products", Product))
            if _searchable(m)
        ],
    )
    raw_id_fields = () if _searchable(Product) else ("products",)
    filter_horizontal = tuple(
        n for n, m in (("categories", Category), ("brands", Brand)) if not _searchable(m)
    )
    inlines = [RebateTierInline, RebateAccrualInline]
    readonly_fields = ("statement",)
    fieldsets = (
        (None, {"fields": ("supplier", "name", "period_start", "period_end", "mode", "is_active")}),
        (
            "Scope (empty = everything bought from the supplier)",
            {"fields": ("categories", "brands", "products")},
        ),
        ("Statement today", {"fields": ("statement",)}),
    )

    @admin.display(description="statement")
    def statement(self, agreement: RebateAgreement) -> str:
        if not agreement.pk:
            return "—"
        s = selectors.rebate_statement(agreement)
        currency = settings.SHOP_CURRENCY
        tier = f"≥ {s.tier.threshold} at {s.tier.rate_percent} %" if s.tier else "none reached yet"
        next_tier = (
            f"≥ {s.next_tier.threshold} at {s.next_tier.rate_percent} % — {currency} {s.next_tier.gap} to go"
            if s.next_tier
            else "top tier reached"
        )
        return format_html(
            "<table><tr><th>As of</th><td>{}</td></tr>"
            "<tr><th>Basis (received value)</th><td>{} {}</td></tr>"
            "<tr><th>Tier reached</th><td>{}</td></tr>"
            "<tr><th>Rebate</th><td>{} {}</td></tr>"
            "<tr><th>Next tier</th><td>{}</td></tr></table>",
            s.as_of.isoformat(),
            currency,
            s.basis_amount,
            tier,
            currency,
            s.rebate_amount,
            next_tier,
        )

    # Agreements and tiers are written by the services, together.
    def save_model(self, request: HttpRequest, obj: RebateAgreement, form: Any, change: bool) -> None:
        pass

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        data = form.cleaned_data
        tier_formset = next(fs for fs in formsets if fs.model is RebateTier)
        tiers = None
        if not change or tier_formset.has_changed():
            tiers = [
                services.TierInput(f.cleaned_data["threshold"], f.cleaned_data["rate_percent"])
                for f in tier_formset.forms
                if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
            ]
        fields = {k: data[k] for k in ("supplier", "name", "period_start", "period_end", "mode", "is_active")}
        scope = {k: data.get(k, []) for k in ("categories", "brands", "products")}
        if change:
            agreement = services.rebate_agreement_update(
                agreement=form.instance, tiers=tiers, **scope, **fields
            )
        else:
            agreement = services.rebate_agreement_create(tiers=tiers or [], **scope, **fields)
        obj = form.instance
        for field in RebateAgreement._meta.concrete_fields:
            setattr(obj, field.attname, getattr(agreement, field.attname))
        obj._state.adding, obj._state.db = False, agreement._state.db
        for formset in formsets:
            self.save_formset(request, form, formset, change)


@admin.register(RebateAccrual)
class RebateAccrualAdmin(admin.ModelAdmin):
    """Read-only: accruals are recorded by the monthly job."""

    list_display = ("agreement", "period", "basis_amount", "rebate_amount", "computed_at")
    list_filter = ("period", "agreement__supplier")
    list_select_related = ("agreement",)
    date_hierarchy = "period"

    def get_queryset(self, request: HttpRequest) -> QuerySet[RebateAccrual]:
        return super().get_queryset(request).select_related("agreement")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
