from decimal import Decimal

from django.conf import settings
from rest_framework import serializers

from apps.catalog.models import Brand, Category, Product

from ..models import RebateAgreement, RebateTier


class RebateTierSerializer(serializers.ModelSerializer):
    threshold = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=Decimal("0"))
    rate_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal("0"), max_value=Decimal("100")
    )

    class Meta:
        model = RebateTier
        fields = ["threshold", "rate_percent"]


class RebateAgreementSerializer(serializers.ModelSerializer):
    tiers = RebateTierSerializer(many=True, allow_empty=False)
    categories = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(),
        many=True,
        required=False,
        help_text="Scope: these and sub-categories.",
    )
    brands = serializers.PrimaryKeyRelatedField(queryset=Brand.objects.all(), many=True, required=False)
    products = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), many=True, required=False)

    class Meta:
        model = RebateAgreement
        fields = [
            "id",
            "supplier",
            "name",
            "period_start",
            "period_end",
            "mode",
            "is_active",
            "categories",
            "brands",
            "products",
            "tiers",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class TierOutSerializer(serializers.Serializer):
    threshold = serializers.DecimalField(max_digits=12, decimal_places=2)
    rate_percent = serializers.DecimalField(max_digits=5, decimal_places=2)


class NextTierSerializer(TierOutSerializer):
    gap = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="Basis still needed to reach it."
    )


class RebateStatementSerializer(serializers.Serializer):
    basis_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    tier = TierOutSerializer(allow_null=True, help_text="Highest tier whose threshold the basis reached.")
    rate_percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    rebate_amount = serializers.DecimalField(max_digits=14, decimal_places=2)
    next_tier = NextTierSerializer(allow_null=True)
    currency = serializers.SerializerMethodField()
    as_of = serializers.DateField()

    def get_currency(self, obj: object) -> str:
        return settings.SHOP_CURRENCY


class StatementQuerySerializer(serializers.Serializer):
    as_of = serializers.DateField(required=False, help_text="Statement date (default today, UTC).")
