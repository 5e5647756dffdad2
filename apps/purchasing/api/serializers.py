from decimal import Decimal
from typing import Any

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


_DATETIME = serializers.DateTimeField()
_CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    return str(value.quantize(_CENT))


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

    def to_representation(self, obj: PurchaseOrder) -> dict[str, Any]:
        # Hand-rolled: lists render 20 orders × their lines, and DRF's per-field machinery was most of
        # the request time. The declared fields above still define the schema; tests pin the shape.
        dt = _DATETIME.to_representation
        return {
            "id": obj.pk,
            "number": obj.number,
            "supplier": obj.supplier_id,
            "location": obj.location_id,
            "status": obj.status,
            "expected_date": obj.expected_date.isoformat() if obj.expected_date else None,
            "notes": obj.notes,
            "lines": [
                {
                    "id": line.pk,
                    "variant": line.variant_id,
                    "quantity": line.quantity,
                    "received_quantity": line.received_quantity,
                    "unit_cost": _money(line.unit_cost),
                }
                for line in obj.lines.all()
            ],
            "total": _money(obj.total),
            "currency": settings.SHOP_CURRENCY,
            "created_at": dt(obj.created_at) if obj.created_at else None,
            "placed_at": dt(obj.placed_at) if obj.placed_at else None,
            "received_at": dt(obj.received_at) if obj.received_at else None,
            "cancelled_at": dt(obj.cancelled_at) if obj.cancelled_at else None,
        }


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
