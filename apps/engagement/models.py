"""Engagement: raw storefront events (deduplicated by client event_id) and their rollups."""

from django.conf import settings
from django.db import models


class EventType(models.TextChoices):
    VIEW = "view", "View"
    CLICK = "click", "Click"
    ADD_TO_CART = "add_to_cart", "Add to cart"
    PURCHASE = "purchase", "Purchase"


class Event(models.Model):
    """One raw event. `id` grows with ingestion order: rollups and scoring use it as their watermark."""

    id = models.BigAutoField(primary_key=True)
    event_id = models.UUIDField(unique=True, help_text="Client-generated; the deduplication key.")
    type = models.CharField(max_length=16, choices=EventType.choices)
    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_constraint=False,
        related_name="+",
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="")
    occurred_at = models.DateTimeField()
    bucket_hour = models.DateTimeField(help_text="occurred_at truncated to the hour (UTC).")
    received_at = models.DateTimeField()
    placement = models.CharField(max_length=64, blank=True, default="")
    position = models.PositiveSmallIntegerField(null=True, blank=True)
    exposure_id = models.UUIDField(null=True, blank=True)
    experiment_variant = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["bucket_hour", "product"], name="event_bucket_product_idx"),
            models.Index(
                fields=["exposure_id"],
                name="event_exposure_idx",
                condition=models.Q(exposure_id__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.product_id} @ {self.occurred_at:%Y-%m-%d %H:%M}"
