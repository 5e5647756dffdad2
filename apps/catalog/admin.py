"""Back office for the catalog. Writes go through the catalog services: slugs, search vectors and
(de)activation; CSV imports run the same import services as `manage.py catalog_import`.
"""

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from import_export.admin import ImportExportMixin

from . import selectors, services
from .cache import catalog_cache_bump
from .models import Brand, Category, Product, ProductImage, Variant
from .resources import CatalogResource, StockLevelResource
from .services.slugs import unique_slug

CATALOG_IMPORT_PERMS = (
    "catalog.add_product",
    "catalog.change_product",
    "catalog.add_variant",
    "catalog.change_variant",
)
STOCK_IMPORT_PERM = "inventory.change_stocklevel"


class CatalogImportExportMixin(ImportExportMixin):
    """Catalog rows for catalog managers; stock counts for whoever may change stock levels."""

    skip_admin_log = True  # rows are written by the import services, not as admin objects

    def get_import_resource_classes(self, request: HttpRequest) -> list:
        classes = []
        if request.user.has_perms(CATALOG_IMPORT_PERMS):
            classes.append(CatalogResource)
        if request.user.has_perm(STOCK_IMPORT_PERM):
            classes.append(StockLevelResource)
        return classes

    def get_export_resource_classes(self, request: HttpRequest) -> list:
        classes = [CatalogResource]
        if request.user.has_perm("inventory.view_stocklevel"):
            classes.append(StockLevelResource)
        return classes

    def has_import_permission(self, request: HttpRequest) -> bool:
        return bool(self.get_import_resource_classes(request))

    def has_export_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("catalog.view_variant")

    def get_import_resource_kwargs(self, request: HttpRequest, **kwargs: Any) -> dict:
        return {"user": request.user}


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "parent")
    list_select_related = ("parent",)
    search_fields = ("name", "slug")
    autocomplete_fields = ("parent",)
    readonly_fields = ("slug", "created_at")
    fields = ("name", "parent", "slug", "created_at")
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Category, form: Any, change: bool) -> None:
        if change:
            services.category_update(category=obj, name=obj.name, parent_id=obj.parent_id)
        else:
            created = services.category_create(name=obj.name, parent_id=obj.parent_id)
            obj.pk, obj.slug, obj.created_at = created.pk, created.slug, created.created_at

    def delete_model(self, request: HttpRequest, obj: Category) -> None:
        super().delete_model(request, obj)
        catalog_cache_bump()

    def get_form(self, request: HttpRequest, obj: Category | None = None, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, **kwargs)
        clean = form.clean

        def clean_no_cycle(self_form: Any) -> dict:
            data = clean(self_form)
            parent = data.get("parent")
            if (
                obj is not None
                and parent is not None
                and parent.pk in selectors.category_subtree_ids(category_id=obj.pk)
            ):
                self_form.add_error("parent", "A category cannot be moved under itself.")
            return data

        form.clean = clean_no_cycle
        return form


@admin.register(Brand)
class BrandAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "created_at")
    search_fields = ("name", "slug")
    readonly_fields = ("slug", "created_at")
    fields = ("name", "slug", "created_at")
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Brand, form: Any, change: bool) -> None:
        if not change:
            obj.slug = unique_slug(Brand, obj.name, max_length=140)
        super().save_model(request, obj, form, change)
        services.product_search_reindex(product_ids=obj.products.values_list("pk", flat=True))


class InStockFilter(admin.SimpleListFilter):
    title = "in stock"
    parameter_name = "in_stock"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "Yes (sellable units)"), ("no", "No")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        # One EXISTS over stock levels: no join, no duplicates, no GROUP BY over the whole catalog.
        if self.value() == "yes":
            return queryset.filter(selectors.in_stock_exists())
        if self.value() == "no":
            return queryset.exclude(selectors.in_stock_exists())
        return queryset


class CategoryTreeFilter(admin.SimpleListFilter):
    """Top-level categories, then the children of the one selected; a choice includes its sub-tree.

    A flat list of every category costs a link per category on every changelist render (hundreds of
    URL encodings at a realistic catalog size); the tree shows a dozen at a time.
    """

    title = "category"
    parameter_name = "category"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        shown = Q(parent__isnull=True)
        selected = self.value()
        if selected and selected.isdigit():
            pk = int(selected)
            parent_id = Category.objects.filter(pk=pk).values_list("parent_id", flat=True).first()
            # the selected category, its children, and its parent with its siblings
            shown |= Q(pk=pk) | Q(parent_id=pk)
            if parent_id is not None:
                shown |= Q(pk=parent_id) | Q(parent_id=parent_id)
        categories = Category.objects.filter(shown).order_by("name")
        return [(str(c.pk), c.name if c.parent_id is None else f"› {c.name}") for c in categories]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if value and value.isdigit():
            return queryset.filter(category_id__in=selectors.category_subtree_ids(category_id=int(value)))
        return queryset


class InputFilter(admin.SimpleListFilter):
    """A text box instead of one link per value (brands number in the hundreds)."""

    template = "admin/catalog/input_filter.html"
    placeholder = ""

    def __init__(self, request: HttpRequest, params: Any, model: Any, model_admin: Any) -> None:
        super().__init__(request, params, model, model_admin)
        self.other_params = [(k, v) for k, v in request.GET.items() if k not in (self.parameter_name, "p")]

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return []

    def has_output(self) -> bool:
        return True

    def choices(self, changelist: Any) -> Any:
        yield {
            "selected": self.value() is None,
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "All",
        }


class BrandFilter(InputFilter):
    title = "brand"
    parameter_name = "brand"
    placeholder = "Brand name contains…"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        return queryset.filter(brand_id__in=Brand.objects.filter(name__icontains=value).values("pk"))


class VariantInline(admin.TabularInline):
    model = Variant
    extra = 0
    min_num = 1
    fields = ("sku", "name", "price", "cost", "barcode", "attributes", "is_active")

    def get_formset(self, request: HttpRequest, obj: Product | None = None, **kwargs: Any) -> Any:
        # A product always has at least one variant (the admin does not pass validate_min itself).
        return super().get_formset(request, obj, validate_min=True, **kwargs)


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ("image", "alt", "position")  # forms.ImageField checks the upload with Pillow


@admin.register(Product)
class ProductAdmin(CatalogImportExportMixin, admin.ModelAdmin):
    list_display = ("name", "category", "brand", "price", "is_active", "created_at")
    list_select_related = ("category", "brand")
    list_filter = ("is_active", InStockFilter, CategoryTreeFilter, BrandFilter)
    search_fields = ("name",)  # plus SKUs: see get_search_results
    search_help_text = "Name contains, or exact SKU / SKU prefix."
    autocomplete_fields = ("category", "brand")
    readonly_fields = ("slug", "created_at", "updated_at")
    fields = ("name", "slug", "description", "category", "brand", "is_active", "created_at", "updated_at")
    inlines = (VariantInline, ProductImageInline)
    actions = ("activate", "deactivate")
    list_per_page = 50
    # The changelist's second COUNT(*) over the whole table costs more than it tells at 100k rows.
    show_full_result_count = False

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj: Product) -> str:
        # Same markup as Django's, without a widget template render per row (a third of the page's time
        # at 50 rows).
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" '
            'aria-label="Select this object for an action - {}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            obj,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Product]:
        return (
            super()
            .get_queryset(request)
            .defer("search_vector")
            .annotate(price=selectors.lowest_price_subquery())
        )

    @admin.display(description="price")
    def price(self, obj: Product) -> Any:
        return obj.price

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str) -> tuple:
        term = search_term.strip()
        if not term:
            return queryset, False
        # SKUs first (a prefix match on the unique index), then one OR over the product table: no
        # join, no DISTINCT, no correlated subquery per product row.
        sku_products = list(
            Variant.objects.filter(sku__startswith=term).values_list("product_id", flat=True).distinct()[:500]
        )
        return queryset.filter(Q(name__icontains=term) | Q(pk__in=sku_products)), False

    def save_model(self, request: HttpRequest, obj: Product, form: Any, change: bool) -> None:
        if not change:
            obj.slug = unique_slug(Product, obj.name, max_length=220)
        super().save_model(request, obj, form, change)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        services.product_search_reindex(product_ids=[form.instance.pk])

    def delete_model(self, request: HttpRequest, obj: Product) -> None:
        if not services.product_delete(product=obj):
            messages.warning(request, f"{obj} has history, so it was deactivated instead of deleted.")

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        for product in queryset:
            self.delete_model(request, product)

    @admin.action(description="Activate selected products", permissions=["change"])
    def activate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        changed = services.product_activate(product_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{changed} product(s) activated.", messages.SUCCESS)

    @admin.action(description="Deactivate selected products", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[Product]) -> None:
        changed = services.product_deactivate(product_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{changed} product(s) deactivated.", messages.SUCCESS)


@admin.register(Variant)
class VariantAdmin(CatalogImportExportMixin, admin.ModelAdmin):
    list_display = ("sku", "name", "product", "price", "cost", "is_active")
    list_select_related = ("product",)
    list_filter = ("is_active",)
    search_fields = ("=sku", "=barcode", "product__name")
    autocomplete_fields = ("product",)
    fields = ("product", "sku", "name", "price", "cost", "barcode", "attributes", "is_active", "created_at")
    readonly_fields = ("created_at",)
    list_per_page = 50
    show_full_result_count = False

    def save_model(self, request: HttpRequest, obj: Variant, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        services.product_search_reindex(product_ids=[obj.product_id])
