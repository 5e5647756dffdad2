"""django-import-export resources for the admin. Imports run through the catalog import services
(services/importing.py), the same code as `manage.py catalog_import`; each row's result (new, update,
invalid with field errors) shows on import-export's confirm page, and a dry run writes nothing.
"""

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from import_export import resources
from import_export.fields import Field
from import_export.results import RowResult

from shop.exceptions import ApplicationError, ValidationFailed

from .cache import catalog_cache_bump
from .models import Product, Variant
from .services.importing import (
    CATALOG_COLUMNS,
    REQUIRED_CATALOG_COLUMNS,
    STOCK_COLUMNS,
    CatalogImporter,
    ImportReport,
    StockImporter,
)


def _result(report: ImportReport, error: dict[str, list[str]] | None = None) -> RowResult:
    result = RowResult()
    if error or report.errors:
        result.import_type = RowResult.IMPORT_TYPE_INVALID
        result.validation_error = DjangoValidationError(error or report.errors[0].errors)
    elif report.created:
        result.import_type = RowResult.IMPORT_TYPE_NEW
    elif report.updated:
        result.import_type = RowResult.IMPORT_TYPE_UPDATE
    else:
        result.import_type = RowResult.IMPORT_TYPE_SKIP
    return result


class CatalogResource(resources.ModelResource):
    """Products and variants, one row per variant."""

    sku = Field(attribute="sku", column_name="sku")
    product = Field(attribute="product__name", column_name="product")
    product_slug = Field(attribute="product__slug", column_name="product_slug")
    category = Field(attribute="product__category__slug", column_name="category")
    brand = Field(attribute="product__brand__name", column_name="brand")
    variant_name = Field(attribute="name", column_name="variant_name")
    price = Field(attribute="price", column_name="price")
    cost = Field(attribute="cost", column_name="cost")
    barcode = Field(attribute="barcode", column_name="barcode")
    active = Field(attribute="is_active", column_name="active")

    class Meta:
        model = Variant
        name = "Products and variants (one row per variant)"
        fields = CATALOG_COLUMNS
        export_order = CATALOG_COLUMNS
        import_id_fields = ("sku",)
        skip_diff = True
        report_skipped = True

    def __init__(self, **kwargs: Any) -> None:
        super().__init__()
        self.importer: CatalogImporter | None = None

    def get_queryset(self) -> QuerySet[Variant]:
        related = Variant.objects.select_related("product__category", "product__brand")
        return related.order_by("product_id", "id")

    def export(self, queryset: QuerySet | None = None, **kwargs: Any) -> Any:
        if queryset is not None and queryset.model is Product:
            queryset = self.get_queryset().filter(product__in=queryset.values("pk"))
        elif queryset is not None:
            queryset = queryset.select_related("product__category", "product__brand")
        return super().export(queryset=queryset, **kwargs)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        missing = REQUIRED_CATALOG_COLUMNS - set(dataset.headers or [])
        if missing:
            raise ValidationFailed(f"Missing columns: {', '.join(sorted(missing))}.")
        self.importer = CatalogImporter()

    def import_row(self, row: dict, instance_loader: Any, **kwargs: Any) -> RowResult:
        report = ImportReport()
        assert self.importer is not None
        self.importer.import_batch([(kwargs["row_number"] + 1, dict(row))], report)
        return _result(report)


class StockLevelResource(resources.ModelResource):
    """Counted stock per SKU and location; imports go through the inventory services."""

    sku = Field(attribute="variant__sku", column_name="sku")
    location = Field(attribute="location__code", column_name="location")
    on_hand = Field(attribute="on_hand", column_name="on_hand")
    reserved = Field(attribute="reserved", column_name="reserved", readonly=True)

    class Meta:
        model = Variant._meta.get_field("stock_levels").related_model
        name = "Stock levels (sku, location code, counted on_hand)"
        fields = [*STOCK_COLUMNS, "reserved"]
        export_order = [*STOCK_COLUMNS, "reserved"]
        import_id_fields = ("sku", "location")
        skip_diff = True
        report_skipped = True

    def __init__(self, user: Any = None, **kwargs: Any) -> None:
        super().__init__()
        self.user = user
        self.importer: StockImporter | None = None

    def get_queryset(self) -> QuerySet:
        related = self._meta.model.objects.select_related("variant", "location")
        return related.order_by("variant_id", "location_id")

    def export(self, queryset: QuerySet | None = None, **kwargs: Any) -> Any:
        if queryset is not None and queryset.model in (Product, Variant):
            key = "variant__product__in" if queryset.model is Product else "variant__in"
            queryset = self.get_queryset().filter(**{key: queryset.values("pk")})
        return super().export(queryset=queryset, **kwargs)

    def before_import(self, dataset: Any, **kwargs: Any) -> None:
        missing = {"sku", "on_hand"} - set(dataset.headers or [])
        if missing:
            raise ValidationFailed(f"Missing columns: {', '.join(sorted(missing))}.")
        self.importer = StockImporter(actor=self.user)
        catalog_cache_bump()  # availability changes

    def import_row(self, row: dict, instance_loader: Any, **kwargs: Any) -> RowResult:
        report = ImportReport()
        assert self.importer is not None
        try:
            self.importer.import_row(kwargs["row_number"] + 1, dict(row), report)
        except ValidationFailed as exc:
            return _result(report, exc.details)
        except ApplicationError as exc:
            return _result(report, {"on_hand": [exc.message]})
        return _result(report)
