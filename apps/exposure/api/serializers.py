from rest_framework import serializers

from apps.catalog.models import Category, Product
from apps.exposure.models import ExposureContext, ExposurePin, ProductRanking, SlotReason
from apps.exposure.services.mix import DEFAULT_LIMIT, MAX_LIMIT
from apps.exposure.services.pins import MAX_PIN_POSITION


class ExposureQuerySerializer(serializers.Serializer):
    context = serializers.ChoiceField(choices=ExposureContext.choices)
    category_id = serializers.IntegerField(required=False, min_value=1)
    limit = serializers.IntegerField(required=False, default=DEFAULT_LIMIT, min_value=1, max_value=MAX_LIMIT)
    anonymous_id = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Or the X-Anonymous-Id header."
    )

    def validate(self, attrs: dict) -> dict:
        if attrs["context"] == ExposureContext.CATEGORY and attrs.get("category_id") is None:
            raise serializers.ValidationError({"category_id": ["Required for the category context."]})
        return attrs


class ExposureSlotSerializer(serializers.Serializer):
    position = serializers.IntegerField()
    product_id = serializers.IntegerField()
    reason = serializers.ChoiceField(choices=SlotReason.choices)
    badges = serializers.ListField(child=serializers.ChoiceField(choices=["new", "hot", "low_stock", "deal"]))
    score = serializers.FloatField()


class ExposureMixSerializer(serializers.Serializer):
    """Documentation of the response (the view returns the engine's JSON-ready payload as is)."""

    exposure_id = serializers.UUIDField(help_text="Send it back in click events' context.exposure_id.")
    context = serializers.ChoiceField(
        choices=ExposureContext.choices, help_text="home when personalized fell back."
    )
    variant = serializers.CharField()
    generated_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    cache_hit = serializers.BooleanField()
    mix = ExposureSlotSerializer(many=True)


class ScoringRunRequestSerializer(serializers.Serializer):
    wait = serializers.BooleanField(required=False, default=False)


class ScoringRunResultSerializer(serializers.Serializer):
    products_scored = serializers.IntegerField()
    events_processed = serializers.IntegerField()
    duration_ms = serializers.IntegerField()
    computed_at = serializers.DateTimeField()


class ScoringRunQueuedSerializer(serializers.Serializer):
    task_id = serializers.CharField()


class RankingSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(read_only=True)

    class Meta:
        model = ProductRanking
        fields = [
            "product",
            "popularity_score",
            "cold_score",
            "profit_score",
            "freshness_score",
            "exposure_score",
            "computed_at",
        ]


class PinSerializer(serializers.ModelSerializer):
    product = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all())
    category = serializers.PrimaryKeyRelatedField(
        queryset=Category.objects.all(), required=False, allow_null=True
    )
    position = serializers.IntegerField(min_value=1, max_value=MAX_PIN_POSITION)

    class Meta:
        model = ExposurePin
        fields = ["id", "product", "context", "category", "position", "starts_at", "ends_at", "created_at"]
        read_only_fields = ["id", "created_at"]
        # The service validates the model constraints (one place for the rules, 400 with field details).
        validators: list = []
