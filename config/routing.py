"""WebSocket routes of every app, gathered in one list."""

from django.urls import path

from shop.ws import HealthConsumer

websocket_urlpatterns = [
    path("ws/health/", HealthConsumer.as_asgi()),
]
