"""Orders: carts, orders with price snapshots, applied discounts, an append-only timeline, shipments.

Money invariants are database CHECK constraints (non-negative amounts, line and order totals add up),
so no code path can store an order whose figures disagree.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import DecimalField, ExpressionWrapper, F, Q
from django.db.models.functions import Round

MONEY = {"max_digits": 12, "decimal_places": 2}


def _money(expression) -> Round:
    # Round to cents so the equality holds on SQLite (REAL affinity) as well as on PostgreSQL (numeric).
    return Round(ExpressionWrapper(expression, output_field=DecimalField(**MONEY)), 2)


class Cart(models.Model):
    """One cart per signed-in customer, created lazily by GET /cart."""

    customer = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="cart")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart of {self.customer_id}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.CASCADE, related_name="cart_lines")
    quantity = models.PositiveIntegerField()
    # Price seen when the line was added/changed; a different current price is a `price_changed` problem.
    unit_price = models.DecimalField(**MONEY)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cart_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="cart_line_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant_id}"


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


class Order(models.Model):
    Status = OrderStatus

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(max_length=32, unique=True, help_text="Human reference, e.g. SO-000123.")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(**MONEY)
    discount_total = models.DecimalField(**MONEY, default=0)
    shipping_total = models.DecimalField(**MONEY, default=0)
    total = models.DecimalField(**MONEY)
    shipping_address = models.JSONField(default=dict, blank=True, help_text="Snapshot at checkout.")
    promotion_code = models.CharField(max_length=64, blank=True, default="")
    voucher_code = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-number"]
        indexes = [
            models.Index(fields=["customer", "-created_at"], name="order_customer_created_idx"),
            models.Index(
                fields=["created_at"],
                name="order_pending_created_idx",
                condition=Q(status="pending_payment"),
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="order_subtotal_non_negative"),
            models.CheckConstraint(condition=Q(discount_total__gte=0), name="order_discount_non_negative"),
            models.CheckConstraint(condition=Q(shipping_total__gte=0), name="order_shipping_non_negative"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
            models.CheckConstraint(
                condition=Q(total=_money(F("subtotal") - F("discount_total") + F("shipping_total"))),
                name="order_total_adds_up",
            ),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_valid"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="order_lines")
    sku = models.CharField("SKU", max_length=64)
    name = models.CharField(max_length=255)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(**MONEY)
    discount = models.DecimalField(**MONEY, default=0)
    line_total = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="order_line_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="order_line_price_non_negative"),
            models.CheckConstraint(condition=Q(discount__gte=0), name="order_line_discount_non_negative"),
            models.CheckConstraint(condition=Q(line_total__gte=0), name="order_line_total_non_negative"),
            models.CheckConstraint(
                condition=Q(line_total=_money(F("unit_price") * F("quantity") - F("discount"))),
                name="order_line_total_adds_up",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.sku}"


class OrderDiscount(models.Model):
    """A benefit applied to the order by a pricing rule (promotion, voucher, loyalty)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="discounts")
    promotion = models.CharField(max_length=64, blank=True, default="", help_text="Promotion reference.")
    code = models.CharField(max_length=64, blank=True, default="")
    type = models.CharField(max_length=32)
    amount = models.DecimalField(**MONEY)
    description = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="order_discount_amount_non_negative")
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount}"


class OrderEvent(models.Model):
    """Append-only timeline: every status change, who made it and why."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.CharField(max_length=255, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class Shipment(models.Model):
    class Status(models.TextChoices):
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="shipments")
    carrier = models.CharField(max_length=64)
    tracking_number = models.CharField(max_length=128)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SHIPPED)
    shipped_at = models.DateTimeField()
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        ordering = ["-shipped_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["carrier", "tracking_number"], name="shipment_tracking_unique")
        ]

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"
