from decimal import Decimal

from django.conf import settings
from rest_framework import serializers

from apps.catalog.models import Variant
from apps.inventory.models import Location

from ..models import PurchaseOrder, PurchaseOrderLine, Supplier


class SupplierSerializer(serializers.ModelSerializer):
    class Meta:
        model = Supplier
        fields = ["id", "name", "tax_id", "email", "phone", "lead_time_days", "is_active", "created_at"]
        read_only_fields = ["id", "created_at"]
        # Uniqueness is the service's job (case-insensitive); the DRF validator would be a second query.
        extra_kwargs = {"name": {"validators": []}}


class PurchaseOrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = PurchaseOrderLine
        fields = ["id", "variant", "quantity", "received_quantity", "unit_cost"]
        read_only_fields = fields


class PurchaseOrderSerializer(serializers.ModelSerializer):
    lines = PurchaseOrderLineSerializer(many=True, read_only=True)
    currency = serializers.SerializerMethodField()

    class Meta:
        model = PurchaseOrder
        fields = [
            "id",
            "number",
            "supplier",
            "location",
            "status",
            "expected_date",
            "notes",
            "lines",
            "total",
            "currency",
            "created_at",
            "placed_at",
            "received_at",
            "cancelled_at",
        ]
        read_only_fields = fields

    def get_currency(self, obj: PurchaseOrder) -> str:
        return settings.SHOP_CURRENCY


class PurchaseOrderLineInputSerializer(serializers.Serializer):
    variant = serializers.PrimaryKeyRelatedField(queryset=Variant.objects.all())
    quantity = serializers.IntegerField(min_value=1, max_value=1_000_000)
    unit_cost = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text="Omit to use the supplier's cost for the variant (or the variant's cost).",
    )


class PurchaseOrderCreateInputSerializer(serializers.Serializer):
    supplier = serializers.PrimaryKeyRelatedField(queryset=Supplier.objects.all())
    location = serializers.PrimaryKeyRelatedField(
        queryset=Location.objects.all(), required=False, help_text="Omit for the default location."
    )
    expected_date = serializers.DateField(required=False)
    notes = serializers.CharField(required=False, allow_blank=True, default="")
    lines = PurchaseOrderLineInputSerializer(many=True, allow_empty=False)


class ReceiveLineInputSerializer(serializers.Serializer):
    line = serializers.IntegerField(help_text="Purchase order line id.")
    quantity = serializers.IntegerField(min_value=1)


class PurchaseOrderReceiveInputSerializer(serializers.Serializer):
    lines = ReceiveLineInputSerializer(
        many=True, required=False, allow_empty=False, help_text="Omit to receive everything outstanding."
    )


class PurchaseOrderCancelInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)
