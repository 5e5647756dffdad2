"""Purchasing reads: each selector owns its query shape (no N+1 in lists)."""

from django.db.models import Prefetch, QuerySet

from .models import PurchaseOrder, PurchaseOrderLine, Supplier, SupplierProduct


def supplier_list() -> QuerySet[Supplier]:
    """Suppliers by name."""
    return Supplier.objects.order_by("name", "pk")


def supplier_products_for(*, supplier: Supplier) -> QuerySet[SupplierProduct]:
    """What a supplier sells us, with the variant and its product loaded."""
    return supplier.products.select_related("variant__product").order_by("variant__sku")


def purchase_order_list() -> QuerySet[PurchaseOrder]:
    """Purchase orders newest first, with their lines loaded (related rows are rendered as ids)."""
    return PurchaseOrder.objects.prefetch_related(
        Prefetch("lines", queryset=PurchaseOrderLine.objects.order_by("pk"))
    ).order_by("-created_at", "-pk")


def purchase_order_get(*, pk: int) -> PurchaseOrder:
    """One purchase order with its lines (raises PurchaseOrder.DoesNotExist)."""
    return purchase_order_list().get(pk=pk)


def purchase_order_print_context(*, order: PurchaseOrder) -> dict:
    """What the printable order shows: lines with variant, product and the supplier's SKU."""
    lines = list(order.lines.select_related("variant__product").order_by("pk"))
    skus = dict(
        SupplierProduct.objects.filter(
            supplier_id=order.supplier_id, variant_id__in=[line.variant_id for line in lines]
        ).values_list("variant_id", "supplier_sku")
    )
    rows = [
        {
            "line": line,
            "supplier_sku": skus.get(line.variant_id, ""),
            "amount": line.quantity * line.unit_cost,
        }
        for line in lines
    ]
    return {"order": order, "rows": rows, "units": sum(line.quantity for line in lines)}
