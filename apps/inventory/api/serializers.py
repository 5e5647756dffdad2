"""Inventory API shapes (API.md "Inventory and purchasing"). Serializers only read and validate."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import Location, ReorderAlert, StockLevel, StockMovement
from ..services import MAX_UNITS


def _named_choice_field(name: str, values: list[str]) -> type[serializers.ChoiceField]:
    """A ChoiceField whose enum is its own named schema component (several fields are named `kind`
    with different choices; left to the enum post-processing their names would collide)."""

    @extend_schema_field({"type": "string", "enum": list(values)}, component_name=name)
    class NamedChoiceField(serializers.ChoiceField):
        pass

    return NamedChoiceField


LocationKindField = _named_choice_field("LocationKind", Location.Kind.values)
MovementKindField = _named_choice_field("StockMovementKind", StockMovement.Kind.values)
BookableKindField = _named_choice_field(
    "BookableMovementKind", [StockMovement.Kind.RECEIVE, StockMovement.Kind.ADJUST]
)


class StoreSerializer(serializers.ModelSerializer):
    kind = LocationKindField(choices=Location.Kind.choices, required=False, default=Location.Kind.STORE)
    address = serializers.CharField(required=False, allow_blank=True, default="")
    is_sellable = serializers.BooleanField(required=False, default=True)
    is_default = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Send true to make this the default location (the previous default is unset).",
    )

    class Meta:
        model = Location
        fields = ["id", "code", "name", "kind", "address", "is_sellable", "is_default"]
        # Uniqueness is checked by the service (with the API error shape).
        extra_kwargs = {"code": {"validators": []}}


class MovementCreateSerializer(serializers.Serializer):
    variant = serializers.IntegerField(min_value=1)
    location = serializers.IntegerField(min_value=1, required=False, allow_null=True)
    kind = BookableKindField(choices=[StockMovement.Kind.RECEIVE, StockMovement.Kind.ADJUST])
    quantity = serializers.IntegerField(min_value=-MAX_UNITS, max_value=MAX_UNITS)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")


class MovementCreatedSerializer(serializers.ModelSerializer):
    kind = MovementKindField(choices=StockMovement.Kind.choices)
    on_hand = serializers.IntegerField(source="on_hand_after")
    reserved = serializers.IntegerField(source="reserved_after")

    class Meta:
        model = StockMovement
        fields = ["id", "kind", "quantity", "on_hand", "reserved"]


class MovementSerializer(serializers.ModelSerializer):
    kind = MovementKindField(choices=StockMovement.Kind.choices)
    sku = serializers.CharField(source="variant.sku")
    on_hand = serializers.IntegerField(source="on_hand_after", help_text="On hand after this movement.")
    reserved = serializers.IntegerField(source="reserved_after", help_text="Reserved after this movement.")
    actor = serializers.IntegerField(source="actor_id", allow_null=True)

    class Meta:
        model = StockMovement
        fields = [
            "id",
            "variant",
            "sku",
            "location",
            "kind",
            "quantity",
            "on_hand_delta",
            "reserved_delta",
            "on_hand",
            "reserved",
            "reason",
            "reference",
            "actor",
            "created_at",
        ]


class StockLevelSerializer(serializers.ModelSerializer):
    sku = serializers.CharField(source="variant.sku", read_only=True)
    available = serializers.IntegerField(read_only=True)

    class Meta:
        model = StockLevel
        fields = [
            "id",
            "variant",
            "sku",
            "location",
            "on_hand",
            "reserved",
            "available",
            "reorder_point",
            "reorder_qty",
        ]
        read_only_fields = ["id", "variant", "sku", "location", "on_hand", "reserved", "available"]


class StockLevelUpdateSerializer(serializers.Serializer):
    reorder_point = serializers.IntegerField(min_value=0, max_value=MAX_UNITS, required=False)
    reorder_qty = serializers.IntegerField(min_value=0, max_value=MAX_UNITS, required=False)


class ReorderAlertSerializer(serializers.ModelSerializer):
    variant = serializers.IntegerField(source="stock_level.variant_id")
    sku = serializers.CharField(source="stock_level.variant.sku")
    location = serializers.IntegerField(source="stock_level.location_id")

    class Meta:
        model = ReorderAlert
        fields = [
            "id",
            "variant",
            "sku",
            "location",
            "available",
            "reorder_point",
            "suggested_qty",
            "created_at",
        ]
