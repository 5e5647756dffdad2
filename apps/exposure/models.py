"""Exposure: hourly product rankings, merchandising pins, A/B weight experiments and served mixes.

`ProductRanking` is written only by the set-based scoring job (apps.exposure.services.scoring); it keeps
both the raw components and their [0, 1]-normalised values so every served slot can be explained.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q


class ExposureContext(models.TextChoices):
    HOME = "home", "Home"
    CATEGORY = "category", "Category"
    PERSONALIZED = "personalized", "Personalized"


class SlotReason(models.TextChoices):
    POPULAR = "popular", "Popular"
    COLD_BOOST = "cold_boost", "Cold boost"
    PINNED = "pinned", "Pinned"
    PERSONALIZED = "personalized", "Personalized"
    FRESH = "fresh", "Fresh"
    PROFIT = "profit", "Profit"


class ScoringState(models.Model):
    """The single row (id = 1) holding the scoring watermark and the forward-decay landmark.

    Runs lock this row (SELECT … FOR UPDATE), so overlapping runs serialise and never add the same
    events twice: the second run sees the watermark the first one committed.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    landmark = models.DateTimeField(
        null=True, blank=True, help_text="L: popularity_raw = Σ w·2^((t − L)/half-life)."
    )
    last_event_id = models.BigIntegerField(default=0, help_text="Highest engagement Event.id already scored.")
    last_run_at = models.DateTimeField(null=True, blank=True)
    last_computed_at = models.DateTimeField(null=True, blank=True)
    impressions_day = models.DateTimeField(
        null=True, blank=True, help_text="UTC day whose 7-day impression base is stored in the rankings."
    )
    last_events_processed = models.PositiveIntegerField(default=0)
    last_products_scored = models.PositiveIntegerField(default=0)
    last_duration_ms = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(id=1), name="scoring_state_singleton")]

    def __str__(self) -> str:
        return f"Scoring up to event {self.last_event_id}"


class ProductRanking(models.Model):
    """Scores of one product as of `computed_at` (the top of the hour the job ran in)."""

    product = models.OneToOneField(
        "catalog.Product", primary_key=True, on_delete=models.CASCADE, related_name="ranking"
    )
    # Denormalised from the product so the serving query walks one index; re-checked live at serve time.
    category = models.ForeignKey(
        "catalog.Category", on_delete=models.DO_NOTHING, db_constraint=False, db_index=False, related_name="+"
    )
    in_stock = models.BooleanField(default=False)
    available = models.IntegerField(default=0, help_text="Sellable units when scored.")
    # Raw components (explain a slot).
    popularity_raw = models.FloatField(default=0.0, help_text="Σ w·2^((t − landmark)/h); forward decay.")
    popularity_score = models.FloatField(
        default=0.0, help_text="Decayed weighted events at this row's computed_at (a snapshot)."
    )
    impressions_base = models.PositiveIntegerField(
        default=0, help_text="Impressions over the 7 full UTC days before today (refreshed once a day)."
    )
    clicks_base = models.PositiveIntegerField(default=0)
    views_today = models.PositiveIntegerField(
        default=0, help_text="Viewed events of today folded in so far (added to by every run)."
    )
    impressions_7d = models.PositiveIntegerField(default=0, help_text="Base days + today so far.")
    clicks_7d = models.PositiveIntegerField(default=0)
    cold_score = models.FloatField(default=0.0, help_text="In stock: 2^(−impressions_7d / K); else 0.")
    price = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    cost = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    profit_score = models.FloatField(default=0.0, help_text="Margin rate (price − cost) / price, in [0, 1].")
    freshness_score = models.FloatField(default=0.0, help_text="2^(−age / half-life) at computed_at.")
    # Each component scaled into [0, 1] by a normaliser that moves rarely (docs/exposure.md), so an hourly
    # run rewrites only the rows whose inputs changed.
    popularity_norm = models.FloatField(default=0.0)
    cold_norm = models.FloatField(default=0.0)
    profit_norm = models.FloatField(default=0.0)
    freshness_norm = models.FloatField(default=0.0)
    exposure_score = models.FloatField(default=0.0, help_text="With the default weights (settings).")
    computed_at = models.DateTimeField(help_text="Top of the hour of the run that last changed this row.")

    class Meta:
        ordering = ["-exposure_score", "product_id"]
        indexes = [
            models.Index(
                fields=["-exposure_score", "product"], name="ranking_serve_idx", condition=Q(in_stock=True)
            ),
            models.Index(
                fields=["-cold_score", "product"], name="ranking_cold_idx", condition=Q(in_stock=True)
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product_id}: {self.exposure_score:.4f}"


class ExposurePin(models.Model):
    """A product forced to a position of a context (and category page) during a schedule."""

    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="exposure_pins")
    context = models.CharField(max_length=16, choices=ExposureContext.choices)
    category = models.ForeignKey(
        "catalog.Category",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="exposure_pins",
        help_text="Required for the category context (that category's page only).",
    )
    position = models.PositiveSmallIntegerField(help_text="1-based position in the mix.")
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["context", "category_id", "position", "-created_at"]
        indexes = [models.Index(fields=["context", "category", "position"], name="pin_lookup_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(position__gte=1), name="pin_position_positive"),
            models.CheckConstraint(
                condition=(Q(context="category") & Q(category__isnull=False))
                | (~Q(context="category") & Q(category__isnull=True)),
                name="pin_category_iff_category_context",
            ),
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True)
                | Q(ends_at__isnull=True)
                | Q(ends_at__gt=models.F("starts_at")),
                name="pin_schedule_ordered",
            ),
        ]

    def __str__(self) -> str:
        where = f"{self.context}/{self.category_id}" if self.category_id else self.context
        return f"{self.product_id} at {where} #{self.position}"


class ExposureExperiment(models.Model):
    """An A/B test of exposure weights; at most one is active."""

    key = models.SlugField(max_length=64, unique=True, help_text="Hashed with the visitor id for cohorts.")
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    is_active = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=Q(is_active=True), name="one_active_exposure_experiment"
            )
        ]

    def __str__(self) -> str:
        return self.key


class ExposureVariant(models.Model):
    """One arm of an experiment: its weights and its share of the traffic."""

    experiment = models.ForeignKey(ExposureExperiment, on_delete=models.CASCADE, related_name="variants")
    key = models.SlugField(max_length=64)
    traffic_share = models.PositiveIntegerField(default=50, help_text="Relative weight of the traffic.")
    alpha = models.FloatField(default=0.7, help_text="Weight of popularity; 1 − α goes to strategy.")
    w_cold = models.FloatField(default=1 / 3)
    w_profit = models.FloatField(default=1 / 3)
    w_fresh = models.FloatField(default=1 / 3)

    class Meta:
        ordering = ["experiment_id", "key"]
        constraints = [
            models.UniqueConstraint(fields=["experiment", "key"], name="exposure_variant_unique_key"),
            models.CheckConstraint(condition=Q(alpha__gte=0) & Q(alpha__lte=1), name="variant_alpha_unit"),
            models.CheckConstraint(
                condition=Q(w_cold__gte=0) & Q(w_profit__gte=0) & Q(w_fresh__gte=0),
                name="variant_weights_non_negative",
            ),
            models.CheckConstraint(condition=Q(traffic_share__gt=0), name="variant_traffic_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.experiment_id}:{self.key}"


class ExposureMix(models.Model):
    """One generated mix. Cache hits reuse it (same exposure_id) and add to `served_count`."""

    exposure_id = models.UUIDField(primary_key=True)
    context = models.CharField(max_length=16, choices=ExposureContext.choices)
    category_id = models.BigIntegerField(null=True, blank=True)
    variant = models.CharField(max_length=64)
    experiment_key = models.CharField(max_length=64, blank=True, default="")
    generated_at = models.DateTimeField(db_index=True)
    expires_at = models.DateTimeField()
    served_count = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-generated_at"]
        verbose_name_plural = "exposure mixes"

    def __str__(self) -> str:
        return f"{self.context}/{self.variant} {self.exposure_id}"


class ExposureSlot(models.Model):
    """One position of a generated mix; clicks carrying the exposure_id are attributed to it."""

    exposure_id = models.UUIDField(db_index=True)
    position = models.PositiveSmallIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=16, choices=SlotReason.choices)
    score = models.FloatField(default=0.0)
    variant = models.CharField(max_length=64)
    context = models.CharField(max_length=16, choices=ExposureContext.choices)
    served_at = models.DateTimeField()

    class Meta:
        ordering = ["-served_at", "exposure_id", "position"]
        indexes = [models.Index(fields=["served_at", "product"], name="slot_served_product_idx")]
        constraints = [
            models.UniqueConstraint(fields=["exposure_id", "position"], name="slot_unique_position")
        ]

    def __str__(self) -> str:
        return f"{self.exposure_id} #{self.position}: {self.product_id} ({self.reason})"
