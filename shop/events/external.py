"""Optional adapter that mirrors every domain event to an external broker (RabbitMQ, Kafka via kombu)."""

from typing import Any

from django.conf import settings
from kombu import Connection, Exchange


def publish_external(event: dict[str, Any]) -> None:
    """Publish the event to EVENTS_EXTERNAL_EXCHANGE with its name as routing key."""
    exchange = Exchange(settings.EVENTS_EXTERNAL_EXCHANGE, type="topic", durable=True)
    with Connection(settings.EVENTS_EXTERNAL_BROKER_URL, connect_timeout=2) as conn:
        producer = conn.Producer(serializer="json")
        producer.publish(
            event,
            exchange=exchange,
            routing_key=event["name"],
            declare=[exchange],
            retry=True,
            retry_policy={"max_retries": 3},
        )
