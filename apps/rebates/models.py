"""Supplier rebates: tiered agreements over received purchase value, and monthly accruals."""

from django.db import models
from django.db.models import F, Q


class RebateAgreement(models.Model):
    class Mode(models.TextChoices):
        RETROACTIVE = "retroactive", "Retroactive (whole basis at the tier reached)"
        MARGINAL = "marginal", "Marginal (each slice at its own tier's rate)"

    supplier = models.ForeignKey(
        "purchasing.Supplier", on_delete=models.PROTECT, related_name="rebate_agreements"
    )
    name = models.CharField(max_length=200)
    period_start = models.DateField()
    period_end = models.DateField()
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.RETROACTIVE)
    # Empty scope = everything bought from the supplier; otherwise a product matching any of these.
    categories = models.ManyToManyField("catalog.Category", blank=True, related_name="+")
    brands = models.ManyToManyField("catalog.Brand", blank=True, related_name="+")
    products = models.ManyToManyField("catalog.Product", blank=True, related_name="+")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")), name="rebate_period_end_after_start"
            )
        ]

    def __str__(self) -> str:
        return self.name


class RebateTier(models.Model):
    agreement = models.ForeignKey(RebateAgreement, on_delete=models.CASCADE, related_name="tiers")
    threshold = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Received value from which this rate applies."
    )
    rate_percent = models.DecimalField(max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["agreement_id", "threshold"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "threshold"], name="rebate_tier_unique_threshold"),
            models.CheckConstraint(condition=Q(threshold__gte=0), name="rebate_tier_threshold_non_negative"),
            models.CheckConstraint(
                condition=Q(rate_percent__gte=0) & Q(rate_percent__lte=100), name="rebate_tier_rate_0_100"
            ),
        ]

    def __str__(self) -> str:
        return f"≥ {self.threshold}: {self.rate_percent} %"


class RebateAccrual(models.Model):
    """What one month added to an agreement's rebate (the sum over months is the period statement)."""

    agreement = models.ForeignKey(RebateAgreement, on_delete=models.CASCADE, related_name="accruals")
    period = models.DateField(help_text="First day of the month accrued.")
    basis_amount = models.DecimalField(max_digits=12, decimal_places=2)
    rebate_amount = models.DecimalField(max_digits=12, decimal_places=2)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["agreement_id", "period"]
        constraints = [
            models.UniqueConstraint(fields=["agreement", "period"], name="rebate_accrual_unique_month")
        ]

    def __str__(self) -> str:
        return f"{self.agreement_id} {self.period:%Y-%m}: {self.rebate_amount}"
