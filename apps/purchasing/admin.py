"""Back office for suppliers and purchase orders. Every write goes through apps.purchasing.services."""

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.widgets import AutocompleteSelect, ForeignKeyRawIdWidget
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html
from django.utils.text import Truncator

from apps.catalog.models import Variant
from shop.exceptions import ApplicationError

from . import selectors, services
from .models import PurchaseOrder, PurchaseOrderLine, PurchaseOrderReceipt, Supplier, SupplierProduct


def _variant_admin_searchable() -> bool:
    # Autocomplete needs the catalog's Variant admin (registered earlier: catalog comes first in
    # INSTALLED_APPS); without it fall back to a raw id field rather than fail the system checks.
    model_admin = admin.site._registry.get(Variant)
    return bool(model_admin and model_admin.search_fields)


VARIANT_AUTOCOMPLETE = _variant_admin_searchable()


class PreloadedAutocompleteSelect(AutocompleteSelect):
    """Renders the selected option from the row's already loaded object: no query per inline row."""

    preloaded: models.Model | None = None

    def optgroups(self, name: str, value: list, attr: Any = None) -> list:
        selected = {str(v) for v in value if v not in (None, "")}
        obj = self.preloaded
        if obj is not None and selected == {str(obj.pk)}:
            return [(None, [self.create_option(name, obj.pk, str(obj), selected, 0)], 0)]
        return super().optgroups(name, value, attr)


class PreloadedRawIdWidget(ForeignKeyRawIdWidget):
    """Raw id input labelled from the row's already loaded object (fallback without autocomplete)."""

    preloaded: models.Model | None = None

    def label_and_url_for_value(self, value: Any) -> tuple[str, str]:
        obj = self.preloaded
        if obj is None or str(value) != str(obj.pk):
            return super().label_and_url_for_value(value)
        try:
            url = reverse(f"{self.admin_site.name}:catalog_variant_change", args=(obj.pk,))
        except NoReverseMatch:
            url = ""
        return Truncator(obj).words(14), url


class _VariantRowForm:
    """Mixin for inline forms: hand the loaded variant to the variant widget."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        instance = self.instance
        field = self.fields.get("variant")
        if field is None or not instance.pk or "variant" not in instance._state.fields_cache:
            return
        widget = getattr(field.widget, "widget", field.widget)
        if isinstance(widget, PreloadedAutocompleteSelect | PreloadedRawIdWidget):
            widget.preloaded = instance.variant


def _row_form(model: type[models.Model]) -> type:
    from django import forms

    return type(f"{model.__name__}RowForm", (_VariantRowForm, forms.ModelForm), {})


class _VariantInlineMixin:
    """Variant picked with an autocomplete whose label comes from the select_related row."""

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "variant":
            db = kwargs.get("using")
            kwargs["widget"] = (
                PreloadedAutocompleteSelect(db_field, self.admin_site, using=db)
                if VARIANT_AUTOCOMPLETE
                else PreloadedRawIdWidget(db_field.remote_field, self.admin_site, using=db)
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class SupplierProductInline(_VariantInlineMixin, admin.TabularInline):
    model = SupplierProduct
    form = _row_form(SupplierProduct)
    fields = ("variant", "supplier_sku", "unit_cost", "min_order_qty", "lead_time_days", "is_preferred")
    extra = 0

    def get_queryset(self, request: HttpRequest) -> QuerySet[SupplierProduct]:
        return super().get_queryset(request).select_related("variant")


# Above this many offers the inline (hundreds of rows, seconds to render) gives way to a link to the
# supplier-product changelist filtered on the supplier, which paginates and searches.
SUPPLIER_INLINE_MAX = 50


@admin.register(Supplier)
class SupplierAdmin(admin.ModelAdmin):
    list_display = ("name", "tax_id", "email", "phone", "lead_time_days", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name", "tax_id", "email")
    inlines = [SupplierProductInline]
    readonly_fields = ("offers",)

    def _many_offers(self, obj: Supplier | None) -> bool:
        if obj is None or obj.pk is None:
            return False
        if not hasattr(obj, "_offer_count"):
            obj._offer_count = obj.products.count()
        return obj._offer_count > SUPPLIER_INLINE_MAX

    def get_inlines(self, request: HttpRequest, obj: Supplier | None) -> list:
        return [] if self._many_offers(obj) else super().get_inlines(request, obj)

    def get_fields(self, request: HttpRequest, obj: Supplier | None = None) -> list:
        fields = [f for f in super().get_fields(request, obj) if f != "offers"]
        return [*fields, "offers"] if self._many_offers(obj) else fields

    @admin.display(description="supplier products")
    def offers(self, obj: Supplier) -> str:
        url = reverse("admin:purchasing_supplierproduct_changelist") + f"?supplier__id__exact={obj.pk}"
        return format_html('<a href="{}">{} products — search and edit them here</a>', url, obj._offer_count)

    def save_model(self, request: HttpRequest, obj: Supplier, form: Any, change: bool) -> None:
        data = {f: form.cleaned_data[f] for f in services.SUPPLIER_FIELDS if f in form.cleaned_data}
        if change:
            services.supplier_update(
                supplier=obj, data={k: v for k, v in data.items() if k in form.changed_data}
            )
        else:
            created = services.supplier_create(**data)
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not SupplierProduct:
            return super().save_formset(request, form, formset, change)
        # The admin's change message reads these; the service calls below do the writing.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for row_form in formset.forms:
            data = getattr(row_form, "cleaned_data", None)
            row = row_form.instance
            if not data or (row.pk and not row_form.has_changed()):
                continue
            if data.get("DELETE") or (row.pk and "variant" in row_form.changed_data):
                if row.pk:
                    services.supplier_product_remove(supplier_product=row)
                if data.get("DELETE"):
                    continue
            services.supplier_product_set(
                supplier=form.instance,
                variant_id=data["variant"].pk,
                unit_cost=data["unit_cost"],
                supplier_sku=data.get("supplier_sku") or "",
                min_order_qty=data.get("min_order_qty") or 1,
                lead_time_days=data.get("lead_time_days"),
                is_preferred=bool(data.get("is_preferred")),
            )


@admin.register(SupplierProduct)
class SupplierProductAdmin(admin.ModelAdmin):
    """Every supplier's offers, paginated and searchable; writes go through supplier_product_set/remove."""

    list_display = (
        "variant",
        "supplier",
        "supplier_sku",
        "unit_cost",
        "min_order_qty",
        "lead_time_days",
        "is_preferred",
    )
    list_filter = ("is_preferred", "supplier")
    list_select_related = ("variant", "supplier")
    search_fields = ("supplier_sku", "variant__sku", "variant__product__name", "supplier__name")
    autocomplete_fields = ("supplier", "variant") if VARIANT_AUTOCOMPLETE else ("supplier",)
    raw_id_fields = () if VARIANT_AUTOCOMPLETE else ("variant",)

    def save_model(self, request: HttpRequest, obj: SupplierProduct, form: Any, change: bool) -> None:
        data = form.cleaned_data
        if change and {"supplier", "variant"} & set(form.changed_data):
            services.supplier_product_remove(supplier_product=SupplierProduct.objects.get(pk=obj.pk))
        saved = services.supplier_product_set(
            supplier=data["supplier"],
            variant_id=data["variant"].pk,
            unit_cost=data["unit_cost"],
            supplier_sku=data.get("supplier_sku") or "",
            min_order_qty=data.get("min_order_qty") or 1,
            lead_time_days=data.get("lead_time_days"),
            is_preferred=bool(data.get("is_preferred")),
        )
        obj.pk, obj._state.adding, obj._state.db = saved.pk, False, saved._state.db

    def delete_model(self, request: HttpRequest, obj: SupplierProduct) -> None:
        services.supplier_product_remove(supplier_product=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[SupplierProduct]) -> None:
        for row in queryset:
            services.supplier_product_remove(supplier_product=row)


class PurchaseOrderLineInline(_VariantInlineMixin, admin.TabularInline):
    model = PurchaseOrderLine
    form = _row_form(PurchaseOrderLine)
    fields = ("variant", "quantity", "unit_cost", "received_quantity")
    readonly_fields = ("received_quantity",)
    extra = 0
    min_num = 1

    def get_queryset(self, request: HttpRequest) -> QuerySet[PurchaseOrderLine]:
        return super().get_queryset(request).select_related("variant")

    def get_extra(self, request: HttpRequest, obj: PurchaseOrder | None = None, **kwargs: Any) -> int:
        return 3 if obj is None else 0

    def _editable(self, obj: PurchaseOrder | None) -> bool:
        return obj is None or obj.status == PurchaseOrder.Status.DRAFT

    def has_add_permission(self, request: HttpRequest, obj: PurchaseOrder | None = None) -> bool:
        return self._editable(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: PurchaseOrder | None = None) -> bool:
        return self._editable(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: PurchaseOrder | None = None) -> bool:
        return self._editable(obj) and super().has_delete_permission(request, obj)


@admin.register(PurchaseOrder)
class PurchaseOrderAdmin(admin.ModelAdmin):
    list_display = ("number", "supplier", "location", "status", "expected_date", "total", "created_at")
    list_filter = ("status", "supplier", ("created_at", admin.DateFieldListFilter), "expected_date")
    list_select_related = ("supplier", "location")
    search_fields = ("number", "supplier__name", "notes")
    date_hierarchy = "created_at"
    autocomplete_fields = ("supplier",)
    inlines = [PurchaseOrderLineInline]
    actions = ["place_selected", "receive_selected", "cancel_selected"]
    readonly_fields = (
        "number",
        "status",
        "total",
        "created_by",
        "created_at",
        "placed_at",
        "received_at",
        "cancelled_at",
        "receipts",
    )
    fieldsets = (
        (None, {"fields": ("number", "status", "supplier", "location", "expected_date", "notes")}),
        (
            "Totals and history",
            {
                "fields": (
                    "total",
                    "created_by",
                    "created_at",
                    "placed_at",
                    "received_at",
                    "cancelled_at",
                    "receipts",
                )
            },
        ),
    )

    def get_readonly_fields(self, request: HttpRequest, obj: PurchaseOrder | None = None) -> tuple:
        fields = self.readonly_fields
        if obj is not None:
            fields += ("supplier",)
            if obj.status != PurchaseOrder.Status.DRAFT:
                fields += ("location",)
            if obj.status in (PurchaseOrder.Status.RECEIVED, PurchaseOrder.Status.CANCELLED):
                fields += ("expected_date", "notes")
        return fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[PurchaseOrder]:
        return super().get_queryset(request).select_related("supplier", "location", "created_by")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "supplier":
            kwargs["queryset"] = Supplier.objects.filter(is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    @admin.display(description="receipts")
    def receipts(self, order: PurchaseOrder) -> str:
        rows = (
            PurchaseOrderReceipt.objects.filter(line__order=order)
            .select_related("line__variant")
            .order_by("received_at", "pk")
        )
        if not rows:
            return "—"
        return format_html(
            "<br>".join(["{} · {} × {}"] * len(rows)),
            *[
                value
                for r in rows
                for value in (f"{r.received_at:%Y-%m-%d %H:%M}", r.quantity, r.line.variant)
            ],
        )

    # --- writes through services ----------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: PurchaseOrder, form: Any, change: bool) -> None:
        # The order and its lines are written together in save_related (one service call).
        return None

    def save_formset(self, request: HttpRequest, form: Any, formset: Any, change: bool) -> None:
        if formset.model is not PurchaseOrderLine:
            return super().save_formset(request, form, formset, change)
        # Lines are written by the service in save_related; the change message reads these.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def save_related(self, request: HttpRequest, form: Any, formsets: list, change: bool) -> None:
        header = form.cleaned_data
        lines_formset = next((fs for fs in formsets if fs.model is PurchaseOrderLine), None)
        lines = None
        if lines_formset is not None and (not change or lines_formset.has_changed()):
            lines = [
                services.LineInput(
                    variant_id=f.cleaned_data["variant"].pk,
                    quantity=f.cleaned_data["quantity"],
                    unit_cost=f.cleaned_data.get("unit_cost"),
                )
                for f in lines_formset.forms
                if getattr(f, "cleaned_data", None) and not f.cleaned_data.get("DELETE")
            ]
        obj = form.instance
        if not change:
            order = services.purchase_order_create(
                supplier=header["supplier"],
                location=header.get("location"),
                expected_date=header.get("expected_date"),
                notes=header.get("notes") or "",
                lines=lines or [],
                created_by=request.user,
            )
        else:
            order = services.purchase_order_update(
                order=obj,
                expected_date=header.get("expected_date"),
                notes=header.get("notes") if "notes" in header else None,
                location=header.get("location"),
                lines=lines,
                actor=request.user,
            )
        for field in PurchaseOrder._meta.concrete_fields:
            setattr(obj, field.attname, getattr(order, field.attname))
        obj._state.adding, obj._state.db = False, order._state.db
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    # --- actions ----------------------------------------------------------------------------------

    def _run(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder], verb: str, call: Any) -> None:
        done, failed = [], []
        for order in queryset.order_by("pk"):
            try:
                call(order=order, actor=request.user)
                done.append(order.number)
            except ApplicationError as exc:
                failed.append(f"{order.number}: {exc.message}")
        if done:
            self.message_user(request, f"{verb.capitalize()}: {', '.join(done)}.", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)

    @admin.action(description="Place selected draft orders", permissions=["change"])
    def place_selected(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        self._run(request, queryset, "placed", services.purchase_order_place)

    @admin.action(description="Receive everything outstanding on selected orders", permissions=["change"])
    def receive_selected(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        self._run(request, queryset, "received", services.purchase_order_receive)

    @admin.action(description="Cancel selected orders", permissions=["change"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[PurchaseOrder]) -> None:
        self._run(request, queryset, "cancelled", services.purchase_order_cancel)

    # --- extra views: print, suggest ------------------------------------------------------------

    def get_urls(self) -> list:
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/print/", view(self.print_view), name="purchasing_purchaseorder_print"),
            path("suggest/", view(self.suggest_view), name="purchasing_purchaseorder_suggest"),
            *super().get_urls(),
        ]

    def print_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        order = get_object_or_404(self.get_queryset(request), pk=pk)
        if not self.has_view_or_change_permission(request, order):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            **selectors.purchase_order_print_context(order=order),
            "opts": self.opts,
            "title": f"Purchase order {order.number}",
            "currency": settings.SHOP_CURRENCY,
        }
        return TemplateResponse(request, "admin/purchasing/purchaseorder/print.html", context)

    def suggest_view(self, request: HttpRequest) -> HttpResponse:
        changelist = reverse("admin:purchasing_purchaseorder_changelist")
        if request.method != "POST" or not self.has_add_permission(request):
            return HttpResponseRedirect(changelist)
        result = services.purchase_orders_suggest(actor=request.user)
        if result.orders:
            numbers = ", ".join(o.number for o in result.orders)
            self.message_user(request, f"Created draft orders: {numbers}.", messages.SUCCESS)
        else:
            self.message_user(request, "No new purchase orders to suggest.", messages.INFO)
        if result.skipped:
            skus = dict(
                Variant.objects.filter(pk__in=[s.variant_id for s in result.skipped]).values_list("pk", "sku")
            )
            listed = ", ".join(f"{skus.get(s.variant_id, s.variant_id)} ({s.reason})" for s in result.skipped)
            self.message_user(request, f"Reorder alerts left without an order: {listed}.", messages.WARNING)
        return HttpResponseRedirect(changelist)
