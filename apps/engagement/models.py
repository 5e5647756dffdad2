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


class EventCounts(models.Model):
    """The per-type event counters every rollup row carries."""

    views = models.PositiveIntegerField(default=0)
    clicks = models.PositiveIntegerField(default=0)
    add_to_cart = models.PositiveIntegerField(default=0)
    purchases = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class ProductEngagementHourly(EventCounts):
    """Event counts per product and hour of occurrence, added to by each rollup run."""

    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    bucket_hour = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["product", "bucket_hour"], name="engagement_hourly_product_hour_uniq"
            )
        ]
        indexes = [models.Index(fields=["bucket_hour"], name="engagement_hourly_hour_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} @ {self.bucket_hour:%Y-%m-%d %H:00}"


class ProductEngagementDaily(EventCounts):
    """Event counts per product and UTC day, recomputed from the hourly rows the run touched."""

    product = models.ForeignKey(
        "catalog.Product", on_delete=models.CASCADE, db_constraint=False, related_name="+"
    )
    day = models.DateField()
    ctr = models.FloatField(default=0.0, help_text="clicks / views (0 without views).")

    class Meta:
        verbose_name = "product engagement (daily)"
        verbose_name_plural = "product engagement (daily)"
        constraints = [
            models.UniqueConstraint(fields=["product", "day"], name="engagement_daily_product_day_uniq")
        ]
        indexes = [models.Index(fields=["day"], name="engagement_daily_day_idx")]

    def __str__(self) -> str:
        return f"{self.product_id} on {self.day}"


class CustomerEngagementDaily(EventCounts):
    """Event counts and category affinities per customer (or anonymous id when signed out) and UTC day.

    `category_affinities` maps category id (string) → the sum of the event weights
    (settings.SCORING_EVENT_WEIGHTS) of that day's events on the category's products.
    """

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        db_constraint=False,
        related_name="+",
    )
    anonymous_id = models.CharField(max_length=64, blank=True, default="")
    day = models.DateField()
    category_affinities = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = "customer engagement (daily)"
        verbose_name_plural = "customer engagement (daily)"
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "day"],
                condition=models.Q(customer__isnull=False),
                name="engagement_customer_day_uniq",
            ),
            models.UniqueConstraint(
                fields=["anonymous_id", "day"],
                condition=models.Q(customer__isnull=True),
                name="engagement_anonymous_day_uniq",
            ),
            models.CheckConstraint(
                condition=models.Q(customer__isnull=False) | ~models.Q(anonymous_id=""),
                name="engagement_customer_daily_has_subject",
            ),
        ]
        indexes = [models.Index(fields=["day"], name="engagement_customer_day_idx")]

    def __str__(self) -> str:
        return f"{self.customer_id or self.anonymous_id} on {self.day}"


class RollupWatermark(models.Model):
    """How far a rollup has consumed the raw events, by Event.id (ingestion order, not event time)."""

    name = models.CharField(max_length=64, unique=True)
    last_event_id = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_event_id}"
