"""Inventory: locations, stock levels, an append-only movement ledger, reservations, reorder alerts."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class Location(models.Model):
    class Kind(models.TextChoices):
        STORE = "store", "Store"
        WAREHOUSE = "warehouse", "Warehouse"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=16, choices=Kind.choices, default=Kind.WAREHOUSE)
    address = models.TextField(blank=True, default="")
    is_sellable = models.BooleanField(default=True, help_text="Its stock can be sold online.")
    is_default = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="one_default_location"
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} — {self.name}"


class StockLevel(models.Model):
    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="stock_levels")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_levels")
    on_hand = models.IntegerField(default=0)
    reserved = models.IntegerField(default=0)
    reorder_point = models.PositiveIntegerField(default=0)
    reorder_qty = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["variant_id", "location_id"]
        indexes = [
            # Levels at/below their reorder point: `shortfall >= 0` (selectors.stock_levels_below_reorder).
            models.Index(
                F("reorder_point") - F("on_hand") + F("reserved"),
                name="stock_below_reorder_idx",
                condition=Q(reorder_point__gt=0),
            )
        ]
        constraints = [
            models.UniqueConstraint(fields=["variant", "location"], name="stock_level_unique"),
            models.CheckConstraint(condition=Q(on_hand__gte=0), name="stock_on_hand_non_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stock_reserved_non_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("on_hand")), name="stock_reserved_within_on_hand"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.variant_id}@{self.location_id}: {self.on_hand}/{self.reserved}"

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(models.Model):
    """One ledger row per change; the level always equals the sum of its deltas."""

    class Kind(models.TextChoices):
        RECEIVE = "receive", "Receive"
        RESERVE = "reserve", "Reserve"
        RELEASE = "release", "Release"
        SALE = "sale", "Sale"
        ADJUST = "adjust", "Adjust"

    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="stock_movements")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="stock_movements")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    quantity = models.IntegerField(help_text="Units moved; signed for adjustments.")
    on_hand_delta = models.IntegerField()
    reserved_delta = models.IntegerField()
    on_hand_after = models.IntegerField()
    reserved_after = models.IntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reason = models.CharField(max_length=255, blank=True, default="")
    reference = models.CharField(max_length=100, blank=True, default="", db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["variant", "location", "-created_at"], name="movement_level_idx"),
            # "Newest first" over the whole ledger (API and admin) reads the first rows of this index
            # instead of sorting the table.
            models.Index(fields=["-created_at", "-id"], name="movement_newest_idx"),
        ]
        constraints = [models.CheckConstraint(condition=~Q(quantity=0), name="movement_quantity_non_zero")]

    def __str__(self) -> str:
        return f"{self.kind} {self.quantity} of {self.variant_id}@{self.location_id}"


class Reservation(models.Model):
    """Units held for a reference (an order) until sold, released or expired."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"
        COMMITTED = "committed", "Committed (sold)"

    variant = models.ForeignKey("catalog.Variant", on_delete=models.PROTECT, related_name="reservations")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="reservations")
    quantity = models.PositiveIntegerField()
    reference = models.CharField(max_length=100, db_index=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(
                fields=["expires_at"], name="reservation_active_expiry_idx", condition=Q(status="active")
            )
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive")
        ]

    def __str__(self) -> str:
        return f"{self.quantity} × {self.variant_id} for {self.reference}"


class ReorderAlert(models.Model):
    """Open while a level's available units are at or below its reorder point."""

    stock_level = models.ForeignKey(StockLevel, on_delete=models.CASCADE, related_name="reorder_alerts")
    available = models.IntegerField()
    reorder_point = models.PositiveIntegerField()
    suggested_qty = models.PositiveIntegerField()
    is_open = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["stock_level"], condition=Q(is_open=True), name="one_open_alert_per_level"
            )
        ]

    def __str__(self) -> str:
        return f"Reorder {self.stock_level}"
