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


class MercadoPagoNotificationDataSerializer(serializers.Serializer):
    id = serializers.CharField()


class MercadoPagoNotificationSerializer(serializers.Serializer):
    """A Mercado Pago Webhooks body (documentation only: the body is stored, never trusted)."""

    id = serializers.IntegerField(help_text="Notification id; a redelivery repeats it.")
    type = serializers.CharField(help_text="Topic, e.g. `payment`.")
    action = serializers.CharField(help_text="e.g. `payment.created`, `payment.updated`.")
    live_mode = serializers.BooleanField(required=False)
    api_version = serializers.CharField(required=False)
    date_created = serializers.CharField(required=False)
    user_id = serializers.IntegerField(required=False)
    data = MercadoPagoNotificationDataSerializer()
