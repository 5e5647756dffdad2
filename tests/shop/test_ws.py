"""WebSockets through the real ASGI application: origin check, JWT/session auth, the channel layer."""

import json
from urllib.parse import unquote, urlparse

import pytest
from asgiref.sync import async_to_sync
from asgiref.testing import ApplicationCommunicator
from channels.layers import get_channel_layer
from django.conf import settings
from rest_framework_simplejwt.tokens import RefreshToken

from config.asgi import application
from tests.factories.accounts import UserFactory

ORIGIN = (b"origin", b"http://testserver")


class WebsocketCommunicator(ApplicationCommunicator):
    """channels.testing.WebsocketCommunicator, which cannot be imported without daphne (channels.testing
    pulls it in for its live-server test case); same scope and messages, on asgiref's communicator."""

    def __init__(self, app, path: str, headers: list[tuple[bytes, bytes]]) -> None:
        parsed = urlparse(path)
        scope = {
            "type": "websocket",
            "path": unquote(parsed.path),
            "query_string": parsed.query.encode(),
            "headers": headers,
            "subprotocols": [],
        }
        super().__init__(app, scope)

    async def connect(self, timeout: float = 5) -> tuple[bool, object]:
        await self.send_input({"type": "websocket.connect"})
        response = await self.receive_output(timeout)
        if response["type"] == "websocket.close":
            return False, response.get("code", 1000)
        assert response["type"] == "websocket.accept"
        return True, response.get("subprotocol")

    async def receive_json_from(self, timeout: float = 5) -> dict:
        response = await self.receive_output(timeout)
        assert response["type"] == "websocket.send", response
        return json.loads(response["text"])


async def _probe(path: str, headers: list[tuple[bytes, bytes]] | None = None) -> tuple[bool, list[dict]]:
    headers = headers if headers is not None else [ORIGIN]
    communicator = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await communicator.connect(timeout=5)
    messages = []
    if connected:
        messages.append(await communicator.receive_json_from(timeout=5))
        closed = await communicator.receive_output(timeout=5)
        assert closed["type"] == "websocket.close"
    # Cancel instead of waiting: after a close, channels' denier keeps waiting, and a consumer on the Redis
    # layer finishes its pending BZPOPMIN (up to 5 s) before it exits.
    communicator.stop()
    return connected, messages


probe = async_to_sync(_probe)


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    """A new layer object per test: each async_to_sync call runs its own event loop, and a Redis layer's
    locks belong to the loop that created them."""
    from channels.layers import channel_layers

    channel_layers.backends = {}
    yield
    channel_layers.backends = {}


@pytest.fixture
def layer_backend() -> str:
    """The configured channel layer: Redis whenever REDIS_URL is set (as in CI and production)."""
    backend = settings.CHANNEL_LAYERS["default"]["BACKEND"]
    if settings.REDIS_URL:
        assert backend == "channels_redis.core.RedisChannelLayer"
    return backend


@pytest.mark.django_db
def test_health_socket_answers_through_the_channel_layer(layer_backend):
    connected, messages = probe("/ws/health/")

    assert connected
    assert messages == [{"status": "ok", "channel_layer": "up", "authenticated": False}]


@pytest.mark.django_db(transaction=True)
def test_health_socket_authenticates_a_jwt_in_the_query_string():
    user = UserFactory()
    token = RefreshToken.for_user(user).access_token

    connected, messages = probe(f"/ws/health/?token={token}")

    assert connected
    assert messages == [{"status": "ok", "channel_layer": "up", "authenticated": True}]


@pytest.mark.django_db
def test_health_socket_treats_a_bad_token_as_anonymous():
    connected, messages = probe("/ws/health/?token=not.a.jwt")

    assert connected
    assert messages[0]["authenticated"] is False


@pytest.mark.django_db
def test_health_socket_ignores_an_expired_token():
    user = UserFactory()
    token = RefreshToken.for_user(user).access_token
    token.set_exp(lifetime=-settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"])

    connected, messages = probe(f"/ws/health/?token={token}")

    assert connected
    assert messages[0]["authenticated"] is False


@pytest.mark.django_db(transaction=True)
def test_health_socket_authenticates_the_admin_session(client):
    user = UserFactory(is_staff=True)
    client.force_login(user)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    connected, messages = probe("/ws/health/", headers=[ORIGIN, (b"cookie", cookie.encode())])

    assert connected
    assert messages[0]["authenticated"] is True


@pytest.mark.django_db  # channels closes stale DB connections around every handler
def test_socket_from_a_foreign_origin_is_refused():
    connected, messages = probe("/ws/health/", headers=[(b"origin", b"https://evil.example")])

    assert not connected
    assert messages == []


@pytest.mark.django_db  # channels closes stale DB connections around every handler
def test_socket_without_an_origin_is_refused():
    connected, _ = probe("/ws/health/", headers=[])

    assert not connected


def test_channel_layer_delivers_group_messages(layer_backend):
    layer = get_channel_layer()

    async def round_trip() -> dict:
        channel = await layer.new_channel()
        await layer.group_add("health-test", channel)
        await layer.group_send("health-test", {"type": "test.message", "text": "hello"})
        message = await layer.receive(channel)
        await layer.group_discard("health-test", channel)
        return message

    assert async_to_sync(round_trip)() == {"type": "test.message", "text": "hello"}
