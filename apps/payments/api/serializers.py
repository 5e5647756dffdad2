from rest_framework import serializers

from ..models import Payment
from ..providers.dummy import SIMULATED_STATUSES


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = [
            "id",
            "order",
            "provider",
            "status",
            "status_reason",
            "amount",
            "currency",
            "checkout_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class PaymentSimulateSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=SIMULATED_STATUSES)


class WebhookAckSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=["received", "duplicate"])
