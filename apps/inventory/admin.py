"""Back office for stock: locations, levels (receive/adjust through the services), the read-only
ledger, reservations and reorder alerts."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.http import urlencode

from apps.catalog.models import Variant
from shop.exceptions import ApplicationError

from .models import Location, ReorderAlert, Reservation, StockLevel, StockMovement
from .pagination import EstimatedCountPaginator
from .selectors import stock_levels_below_reorder
from .services import (
    location_create,
    location_set_default,
    location_update,
    stock_adjust,
    stock_level_set_reorder,
    stock_receive,
)

MOVE_PERMISSION = "inventory.add_stockmovement"


def _error_text(exc: ApplicationError) -> str:
    lines = exc.details.get("lines") if isinstance(exc.details, dict) else None
    if lines:
        short = ", ".join(
            f"variant {line['variant']}: {line['requested']} requested, {line['available']} available"
            for line in lines
        )
        return f"{exc.message} ({short})"
    if isinstance(exc.details, dict) and exc.details:
        return f"{exc.message} " + "; ".join(f"{k}: {' '.join(map(str, v))}" for k, v in exc.details.items())
    return exc.message


# --- Locations ----------------------------------------------------------------------------------


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kind", "is_sellable", "is_default", "created_at")
    list_filter = ("kind", "is_sellable", "is_default")
    search_fields = ("code", "name")
    readonly_fields = ("is_default", "created_at")
    fields = ("code", "name", "kind", "address", "is_sellable", "is_default", "created_at")
    actions = ["make_default"]

    def has_delete_permission(self, request: HttpRequest, obj: Location | None = None) -> bool:
        # The default location must always exist: receipts without a location go there.
        if obj is not None and obj.is_default:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: Location, form: forms.ModelForm, change: bool) -> None:
        data = {f: form.cleaned_data[f] for f in ("code", "name", "kind", "address", "is_sellable")}
        if change:
            location_update(location=obj, **{f: v for f, v in data.items() if f in form.changed_data})
        else:
            obj.pk = location_create(**data).pk
            obj.refresh_from_db()

    @admin.action(description="Make the selected location the default", permissions=["change"])
    def make_default(self, request: HttpRequest, queryset: QuerySet[Location]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one location.", messages.ERROR)
            return
        location = location_set_default(location=queryset.get())
        self.message_user(request, f"{location} is now the default location.", messages.SUCCESS)


# --- Stock levels -------------------------------------------------------------------------------


class BelowReorderFilter(admin.SimpleListFilter):
    title = "reorder point"
    parameter_name = "below_reorder"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("yes", "At or below reorder point"), ("no", "Above reorder point / not managed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        below = stock_levels_below_reorder(queryset)
        if self.value() == "yes":
            return below
        if self.value() == "no":
            return queryset.exclude(pk__in=below.values("pk"))
        return None


class StockQuantityForm(forms.Form):
    """Quantity and reason for a receive/adjust applied to the selected levels."""

    quantity = forms.IntegerField(help_text="Receive: units received (> 0). Adjust: signed correction.")
    reason = forms.CharField(max_length=255, required=False)


class StockMoveForm(StockQuantityForm):
    """Receive or adjust any SKU at any location (also creates the level)."""

    sku = forms.CharField(label="SKU", max_length=64)
    location = forms.ModelChoiceField(queryset=Location.objects.order_by("code"), required=False)
    kind = forms.ChoiceField(choices=[("receive", "Receive"), ("adjust", "Adjust")])
    field_order = ["sku", "location", "kind", "quantity", "reason"]

    def clean_sku(self) -> Variant:
        variant = Variant.objects.filter(sku=self.cleaned_data["sku"]).first()
        if variant is None:
            raise forms.ValidationError("No variant has this SKU.")
        return variant


@admin.register(StockLevel)
class StockLevelAdmin(admin.ModelAdmin):
    list_display = (
        "sku",
        "product",
        "location",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
        "reorder_qty",
    )
    list_filter = ("location", BelowReorderFilter)
    search_fields = ("variant__sku", "variant__product__name")
    list_select_related = ("variant__product", "location")
    fields = (
        "variant",
        "location",
        "on_hand",
        "reserved",
        "available",
        "reorder_point",
        "reorder_qty",
        "ledger",
        "updated_at",
    )
    readonly_fields = ("variant", "location", "on_hand", "reserved", "available", "ledger", "updated_at")
    actions = ["receive_stock", "adjust_stock"]
    list_per_page = 50
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[StockLevel]:
        return super().get_queryset(request).select_related("variant__product", "location")

    @admin.display(description="SKU", ordering="variant__sku")
    def sku(self, obj: StockLevel) -> str:
        return obj.variant.sku

    @admin.display(description="product", ordering="variant__product__name")
    def product(self, obj: StockLevel) -> str:
        return obj.variant.product.name

    @admin.display(description="available", ordering=F("on_hand") - F("reserved"))
    def available(self, obj: StockLevel) -> int:
        return obj.available

    @admin.display(description="ledger")
    def ledger(self, obj: StockLevel) -> str:
        url = (
            reverse("admin:inventory_stockmovement_changelist")
            + "?"
            + urlencode({"variant__id__exact": obj.variant_id, "location__id__exact": obj.location_id})
        )
        return format_html('<a href="{}">Movements of this level</a>', url)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[StockLevel], search_term: str
    ) -> tuple[QuerySet[StockLevel], bool]:
        # A scanned or typed SKU is the common search: answer it from the unique SKU index instead of a
        # substring scan over every level and product name.
        term = search_term.strip()
        if term and Variant.objects.filter(sku=term).exists():
            return queryset.filter(variant__sku=term), False
        return super().get_search_results(request, queryset, search_term)

    def has_add_permission(self, request: HttpRequest) -> bool:
        # Levels come into being by receiving stock ("Receive or adjust stock").
        return False

    def has_delete_permission(self, request: HttpRequest, obj: StockLevel | None = None) -> bool:
        return False

    def has_move_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm(MOVE_PERMISSION)

    def save_model(self, request: HttpRequest, obj: StockLevel, form: forms.ModelForm, change: bool) -> None:
        stock_level_set_reorder(
            level_id=obj.pk,
            reorder_point=form.cleaned_data["reorder_point"],
            reorder_qty=form.cleaned_data["reorder_qty"],
            actor=request.user,
        )

    # Actions on selected levels -----------------------------------------------------------------

    @admin.action(description="Receive stock into the selected levels", permissions=["move"])
    def receive_stock(self, request: HttpRequest, queryset: QuerySet[StockLevel]) -> HttpResponse | None:
        return self._quantity_action(request, queryset, kind="receive")

    @admin.action(description="Adjust stock of the selected levels", permissions=["move"])
    def adjust_stock(self, request: HttpRequest, queryset: QuerySet[StockLevel]) -> HttpResponse | None:
        return self._quantity_action(request, queryset, kind="adjust")

    def _quantity_action(
        self, request: HttpRequest, queryset: QuerySet[StockLevel], *, kind: str
    ) -> HttpResponse | None:
        levels = list(queryset.select_related("variant__product", "location").order_by("pk"))
        form = StockQuantityForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            service = stock_receive if kind == "receive" else stock_adjust
            try:
                # All or nothing: one refused level leaves every selected level untouched.
                with transaction.atomic():
                    for level in levels:
                        service(
                            variant_id=level.variant_id,
                            location_id=level.location_id,
                            quantity=form.cleaned_data["quantity"],
                            reason=form.cleaned_data["reason"],
                            actor=request.user,
                        )
            except ApplicationError as exc:
                self.message_user(request, f"Nothing changed: {_error_text(exc)}", messages.ERROR)
                return None
            verb = "Received" if kind == "receive" else "Adjusted"
            self.message_user(
                request,
                f"{verb} {form.cleaned_data['quantity']} unit(s) on {len(levels)} stock level(s).",
                messages.SUCCESS,
            )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": f"{kind.capitalize()} stock",
            "opts": self.model._meta,
            "form": form,
            "levels": levels,
            "action": f"{kind}_stock",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "selected": [str(level.pk) for level in levels],
        }
        return TemplateResponse(request, "admin/inventory/stock_action.html", context)

    # Free-standing receive/adjust (any SKU, any location) ---------------------------------------

    def get_urls(self) -> list:
        move = path("move/", self.admin_site.admin_view(self.move_view), name="inventory_stocklevel_move")
        return [move, *super().get_urls()]

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        extra_context = {**(extra_context or {}), "can_move_stock": self.has_move_permission(request)}
        return super().changelist_view(request, extra_context)

    def move_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_move_permission(request):
            raise PermissionDenied
        form = StockMoveForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            service = stock_receive if data["kind"] == "receive" else stock_adjust
            try:
                movement = service(
                    variant_id=data["sku"].pk,
                    location_id=data["location"].pk if data["location"] else None,
                    quantity=data["quantity"],
                    reason=data["reason"],
                    actor=request.user,
                )
            except ApplicationError as exc:
                self.message_user(request, _error_text(exc), messages.ERROR)
            else:
                self.message_user(
                    request,
                    f"{movement.get_kind_display()} of {movement.quantity} × {data['sku'].sku} booked: "
                    f"{movement.on_hand_after} on hand, {movement.reserved_after} reserved.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:inventory_stocklevel_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Receive or adjust stock",
            "opts": self.model._meta,
            "form": form,
        }
        return TemplateResponse(request, "admin/inventory/stock_move.html", context)


# --- Read-only ledger, reservations, alerts ----------------------------------------------------


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written only by the services: viewable, never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(StockMovement)
class StockMovementAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "kind",
        "sku",
        "location",
        "quantity",
        "on_hand_delta",
        "reserved_delta",
        "on_hand_after",
        "reserved_after",
        "reference",
        "actor",
    )
    list_filter = ("kind", "location")
    date_hierarchy = "created_at"
    search_fields = ("variant__sku", "reference")
    list_select_related = ("variant", "location", "actor")
    list_per_page = 100
    # The ledger grows without bound: no COUNT(*) over the whole table on every page.
    paginator = EstimatedCountPaginator
    show_full_result_count = False

    @admin.display(description="SKU", ordering="variant__sku")
    def sku(self, obj: StockMovement) -> str:
        return obj.variant.sku


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = (
        "reference",
        "sku",
        "location",
        "quantity",
        "status",
        "expires_at",
        "created_at",
        "closed_at",
    )
    list_filter = ("status", "location")
    search_fields = ("reference", "variant__sku")
    list_select_related = ("variant", "location")
    date_hierarchy = "created_at"

    @admin.display(description="SKU", ordering="variant__sku")
    def sku(self, obj: Reservation) -> str:
        return obj.variant.sku


class AlertOpenFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return [("open", "Open"), ("closed", "Closed")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet | None:
        if self.value() in ("open", "closed"):
            return queryset.filter(is_open=self.value() == "open")
        return None


@admin.register(ReorderAlert)
class ReorderAlertAdmin(ReadOnlyAdmin):
    list_display = (
        "sku",
        "location",
        "available",
        "reorder_point",
        "suggested_qty",
        "is_open",
        "created_at",
        "closed_at",
    )
    list_filter = (AlertOpenFilter, ("stock_level__location", admin.RelatedOnlyFieldListFilter))
    search_fields = ("stock_level__variant__sku", "stock_level__variant__product__name")
    list_select_related = ("stock_level__variant", "stock_level__location")

    @admin.display(description="SKU", ordering="stock_level__variant__sku")
    def sku(self, obj: ReorderAlert) -> str:
        return obj.stock_level.variant.sku

    @admin.display(description="location", ordering="stock_level__location__code")
    def location(self, obj: ReorderAlert) -> Location:
        return obj.stock_level.location
