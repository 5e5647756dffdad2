"""Catalog writes. Every caller (API, admin, import, commands) goes through these functions."""

from .images import product_image_add, product_image_delete
from .products import (
    VariantInput,
    product_activate,
    product_create,
    product_deactivate,
    product_delete,
    product_update,
    variant_create,
    variant_update,
)
from .search import product_search_reindex, product_search_reindex_all
from .taxonomy import brand_create, brand_get_or_create, category_create, category_update

__all__ = [
    "VariantInput",
    "brand_create",
    "brand_get_or_create",
    "category_create",
    "category_update",
    "product_activate",
    "product_create",
    "product_deactivate",
    "product_delete",
    "product_image_add",
    "product_image_delete",
    "product_search_reindex",
    "product_search_reindex_all",
    "product_update",
    "variant_create",
    "variant_update",
]
