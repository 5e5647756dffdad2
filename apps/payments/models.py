"""Payments: one row per attempt to pay an order, and every provider notification received.

Money and status invariants are database constraints; the status only ever moves forward (see
services.payments.STATUS_RANK), enforced under a row lock by `payment_status_apply`.
"""

import uuid

from django.db import models
from django.db.models import Q

MONEY = {"max_digits": 12, "decimal_places": 2}


class PaymentStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CANCELLED = "cancelled", "Cancelled"
    REFUNDED = "refunded", "Refunded"


class ProviderName(models.TextChoices):
    DUMMY = "dummy", "Development (dummy)"
    MERCADOPAGO = "mercadopago", "Mercado Pago"


class Payment(models.Model):
    Status = PaymentStatus
    Provider = ProviderName

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="payments")
    provider = models.CharField(max_length=20, choices=ProviderName.choices)
    provider_reference = models.CharField(
        max_length=128, blank=True, default="", help_text="Checkout reference (Mercado Pago preference id)."
    )
    provider_payment_id = models.CharField(
        max_length=128, blank=True, default="", help_text="The provider's payment id once the buyer paid."
    )
    status = models.CharField(max_length=16, choices=PaymentStatus.choices, default=PaymentStatus.PENDING)
    status_reason = models.CharField(max_length=255, blank=True, default="", help_text="Why it last changed.")
    amount = models.DecimalField(**MONEY)
    currency = models.CharField(max_length=3)
    checkout_url = models.URLField(max_length=1000, blank=True, default="")
    raw = models.JSONField(
        default=dict, blank=True, help_text="Latest provider data (checkout, payment, refund)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["provider_reference"], name="payment_provider_ref_idx"),
            models.Index(fields=["provider_payment_id"], name="payment_provider_pay_idx"),
            models.Index(fields=["order", "-created_at"], name="payment_order_created_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_non_negative"),
            models.CheckConstraint(condition=Q(status__in=PaymentStatus.values), name="payment_status_valid"),
            models.CheckConstraint(
                condition=Q(provider__in=ProviderName.values), name="payment_provider_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.amount} {self.currency} ({self.status})"


class PaymentNotification(models.Model):
    """A provider notification as received (verified), kept forever, deduplicated by `provider_key`."""

    provider = models.CharField(max_length=20, choices=ProviderName.choices)
    provider_key = models.CharField(
        max_length=255, unique=True, help_text="What makes a delivery a duplicate."
    )
    topic = models.CharField(max_length=64, blank=True, default="")
    action = models.CharField(max_length=64, blank=True, default="")
    resource_id = models.CharField(
        max_length=128, blank=True, default="", help_text="data.id: provider payment id."
    )
    payload = models.JSONField(default=dict, blank=True)
    headers = models.JSONField(default=dict, blank=True)
    payment = models.ForeignKey(
        Payment, null=True, blank=True, on_delete=models.SET_NULL, related_name="notifications"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [
            models.Index(
                fields=["received_at"],
                name="payment_notif_unprocessed_idx",
                condition=Q(processed_at__isnull=True),
            ),
            models.Index(fields=["resource_id"], name="payment_notif_resource_idx"),
        ]

    def __str__(self) -> str:
        return self.provider_key
