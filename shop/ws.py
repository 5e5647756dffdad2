"""WebSocket plumbing: token/ticket authentication on top of the session, and a health consumer."""

from typing import Any
from urllib.parse import parse_qs

from channels.auth import AuthMiddlewareStack
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.middleware import BaseMiddleware


@database_sync_to_async
def _user_from_jwt(token: str) -> Any:
    from rest_framework_simplejwt.exceptions import InvalidToken, TokenError

    from shop.api.authentication import JWTAuthentication

    auth = JWTAuthentication()
    try:
        return auth.get_user(auth.get_validated_token(token))
    except (InvalidToken, TokenError, Exception):
        return None


class TokenAuthMiddleware(BaseMiddleware):
    """Authenticate a WebSocket by `?token=<JWT access token>` when given; the session otherwise."""

    async def __call__(self, scope: dict, receive: Any, send: Any) -> Any:
        params = parse_qs(scope.get("query_string", b"").decode())
        token = (params.get("token") or [None])[0]
        if token:
            user = await _user_from_jwt(token)
            if user is not None:
                scope["user"] = user
        return await super().__call__(scope, receive, send)


def TokenAuthMiddlewareStack(inner: Any) -> Any:  # noqa: N802 - mirrors channels' naming
    return AuthMiddlewareStack(TokenAuthMiddleware(inner))


class HealthConsumer(AsyncJsonWebsocketConsumer):
    """`/ws/health/`: probes the WebSocket tier, channel layer included, then closes.

    The answer travels through the channel layer (Redis in production) and back, because every push to a
    customer depends on it: `{"status": "ok", "channel_layer": "up", "authenticated": bool}`.
    """

    async def connect(self) -> None:
        await self.accept()
        await self.channel_layer.send(self.channel_name, {"type": "health.echo"})

    async def health_echo(self, event: dict[str, Any]) -> None:
        user = self.scope.get("user")
        await self.send_json(
            {"status": "ok", "channel_layer": "up", "authenticated": bool(user and user.is_authenticated)}
        )
        await self.close()
