"""Request id in and out (X-Request-ID) and one JSON access-log line per request."""

import re
import time
import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .context import reset_request_id, set_request_id
from .logging import get_logger, hash_user_id

_VALID_ID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")
access_log = get_logger("shop.access")


class RequestIdMiddleware:
    """Trust a well-formed incoming X-Request-ID, otherwise mint one; echo it on the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class AccessLogMiddleware:
    """Log method, path, status, duration and a keyed hash of the user id — never e-mails or tokens."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        user = getattr(request, "user", None)
        # DRF authenticates JWT inside the view; its user is on the wrapped request.
        drf_user = getattr(getattr(response, "renderer_context", {}).get("request", None), "user", None)
        user = drf_user or user
        access_log.info(
            "request",
            request_id=getattr(request, "request_id", ""),
            method=request.method,
            path=request.path,
            status=response.status_code,
            duration_ms=round((time.perf_counter() - started) * 1000, 2),
            user=hash_user_id(user.pk) if user is not None and user.is_authenticated else None,
        )
        return response
