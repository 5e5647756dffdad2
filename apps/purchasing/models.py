"""Purchasing: suppliers, what they sell us, purchase orders and the receipts against them."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Supplier(models.Model):
    name = models.CharField(max_length=200, unique=True)
    tax_id = models.CharField("tax id", max_length=32, blank=True, default="", db_index=True)
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    lead_time_days = models.PositiveSmallIntegerField(
        default=7, help_text="Days from placing an order to delivery, unless a product says otherwise."
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SupplierProduct(models.Model):
    """A variant a supplier sells us, at what cost and in what minimum quantity."""

    supplier = models.ForeignKey(Supplier, on_delete=models.CASCADE, related_name="products")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="supplier_products")
    supplier_sku = models.CharField("supplier SKU", max_length=64, blank=True, default="")
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2)
    lead_time_days = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Empty: the supplier's lead time."
    )
    min_order_qty = models.PositiveIntegerField("minimum order quantity", default=1)
    is_preferred = models.BooleanField(
        default=False, help_text="Reorder suggestions buy this variant from its preferred supplier."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["supplier_id", "variant_id"]
        constraints = [
            models.UniqueConstraint(fields=["supplier", "variant"], name="supplier_product_unique"),
            models.UniqueConstraint(
                fields=["variant"],
                condition=Q(is_preferred=True),
                name="one_preferred_supplier_per_variant",
                violation_error_message="Another supplier is already preferred for this variant.",
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="supplier_product_cost_non_negative"),
            models.CheckConstraint(condition=Q(min_order_qty__gte=1), name="supplier_product_moq_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.supplier_id}: {self.supplier_sku or self.variant_id}"

    @property
    def effective_lead_time_days(self) -> int:
        return self.lead_time_days if self.lead_time_days is not None else self.supplier.lead_time_days


class PurchaseOrder(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PLACED = "placed", "Placed"
        PARTIALLY_RECEIVED = "partially_received", "Partially received"
        RECEIVED = "received", "Received"
        CANCELLED = "cancelled", "Cancelled"

    # Filled from the primary key right after the insert (PO-000123): unique without a counter row.
    number = models.CharField(max_length=20, unique=True, null=True, blank=True, editable=False)
    supplier = models.ForeignKey(Supplier, on_delete=models.PROTECT, related_name="purchase_orders")
    location = models.ForeignKey(
        "inventory.Location", on_delete=models.PROTECT, related_name="purchase_orders"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT, db_index=True)
    expected_date = models.DateField(null=True, blank=True)
    notes = models.TextField(blank=True, default="")
    total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    placed_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True, help_text="When the last units arrived.")
    cancelled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="purchase_order_total_non_negative")
        ]

    def __str__(self) -> str:
        return self.number or f"PO #{self.pk}"


class PurchaseOrderLine(models.Model):
    order = models.ForeignKey(PurchaseOrder, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey(
        "catalog.Variant", on_delete=models.PROTECT, related_name="purchase_order_lines"
    )
    quantity = models.PositiveIntegerField()
    received_quantity = models.PositiveIntegerField(default=0)
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["order_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "variant"], name="purchase_order_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="po_line_quantity_positive"),
            models.CheckConstraint(
                condition=Q(received_quantity__gte=0), name="po_line_received_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(received_quantity__lte=F("quantity")), name="po_line_received_within_quantity"
            ),
            models.CheckConstraint(condition=Q(unit_cost__gte=0), name="po_line_unit_cost_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant_id}"

    @property
    def outstanding(self) -> int:
        return self.quantity - self.received_quantity


class PurchaseOrderReceipt(models.Model):
    """Units of one line received at one moment: dates receipts for rebates and audits."""

    line = models.ForeignKey(PurchaseOrderLine, on_delete=models.CASCADE, related_name="receipts")
    quantity = models.PositiveIntegerField()
    unit_cost = models.DecimalField(max_digits=12, decimal_places=2)
    received_at = models.DateTimeField(db_index=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["received_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="po_receipt_quantity_positive")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} of line {self.line_id} at {self.received_at:%Y-%m-%d}"
