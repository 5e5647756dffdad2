from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "shop.events"
    label = "shop_events"
    verbose_name = "Domain events (outbox)"

    def ready(self) -> None:
        from django.conf import settings

        from . import external, registry

        if settings.EVENTS_EXTERNAL_BROKER_URL:
            registry.subscribe("*", external.publish_external)
