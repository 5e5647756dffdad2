"""Schema-only serializers of POST /events: the view validates with a plain loop (services.ingest)."""

from rest_framework import serializers

from apps.engagement.models import EventType


class EventContextSerializer(serializers.Serializer):
    placement = serializers.CharField(required=False, max_length=64, help_text="e.g. `home`, `category`.")
    position = serializers.IntegerField(required=False, min_value=0, max_value=32767)
    exposure_id = serializers.UUIDField(required=False, help_text="From GET /exposure, for CTR by slot.")
    variant = serializers.CharField(required=False, max_length=64, help_text="Experiment variant shown.")


class EventInSerializer(serializers.Serializer):
    event_id = serializers.UUIDField(help_text="Client-generated; resending the same id is a no-op.")
    type = serializers.ChoiceField(choices=EventType.choices)
    product_id = serializers.IntegerField()
    occurred_at = serializers.DateTimeField(required=False, help_text="Default: the time it is received.")
    context = EventContextSerializer(required=False)


class EventBatchSerializer(serializers.Serializer):
    sent_at = serializers.DateTimeField(
        required=False, help_text="Client clock at sending; more than 60 s off shifts every occurred_at."
    )
    anonymous_id = serializers.CharField(required=False, max_length=64)
    events = EventInSerializer(many=True, help_text="1 to 500 events. A single event object is accepted too.")


class RejectionSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the event in `events`.")
    code = serializers.ChoiceField(
        choices=[
            "invalid_event",
            "invalid_event_id",
            "invalid_type",
            "unknown_product",
            "invalid_timestamp",
            "too_old",
            "invalid_context",
        ]
    )
    message = serializers.CharField()


class IngestResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    duplicates = serializers.IntegerField()
    rejected = RejectionSerializer(many=True)
