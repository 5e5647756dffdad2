"""DRF integration: a view mixin and a method decorator that enforce policies and set the headers."""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request
from rest_framework.response import Response

from shop.exceptions import RateLimited

from .core import Decision, ratelimit_check_many

# identity function: request → identity string, or None to skip the policy for this request
IdentityFn = Callable[[Any], str | None]
Rule = tuple[str, IdentityFn]


class RateLimitExceeded(RateLimited):
    """429 carrying the decision, whose headers the mixin/decorator put on the error response."""

    def __init__(self, decision: Decision) -> None:
        self.decision = decision
        super().__init__(
            f"Too many requests; retry in {decision.retry_after} s.",
            retry_after=decision.retry_after,
            details={"retry_after": decision.retry_after},
        )


def client_ip(request: HttpRequest | Request) -> str:
    """The caller's IP: REMOTE_ADDR, or the X-Forwarded-For entry added by the outermost trusted proxy.

    With RATELIMIT_TRUSTED_PROXY_COUNT = N > 0, the last N entries of X-Forwarded-For were appended by our
    own proxies, so the N-th from the right is the address that connected to the first of them; entries
    further left are client-supplied and never trusted.
    """
    meta = request.META
    trusted = int(getattr(settings, "RATELIMIT_TRUSTED_PROXY_COUNT", 0) or 0)
    if trusted > 0:
        forwarded = [part.strip() for part in meta.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            return forwarded[-trusted] if len(forwarded) >= trusted else forwarded[0]
    return meta.get("REMOTE_ADDR", "") or "unknown"


def user_identity(request: Request) -> str | None:
    """The authenticated user's id, or None for anonymous callers."""
    user = getattr(request, "user", None)
    return str(user.pk) if user is not None and user.is_authenticated else None


def ratelimit_enforce(request: Request | HttpRequest, rules: Sequence[Rule]) -> Decision:
    """Check the rules for this request; remember the decision on it; raise RateLimitExceeded if refused."""
    decision = ratelimit_check_many([(policy, identity(request)) for policy, identity in rules])
    request.ratelimit_decision = decision  # type: ignore[union-attr]
    if not decision.allowed:
        raise RateLimitExceeded(decision)
    return decision


def apply_headers(response: Any, decision: Decision | None) -> Any:
    """Copy the decision's RateLimit headers onto a response."""
    if decision is not None:
        for name, value in decision.headers().items():
            response[name] = value
    return response


class RateLimitMixin:
    """APIView mixin: `ratelimit_rules = [("events:ip", client_ip), ("events:customer", user_identity)]`.

    The rules are checked after authentication (so per-user policies know the user), all in one atomic
    backend call; allowed and refused responses both carry `RateLimit-Policy` / `RateLimit`.
    """

    ratelimit_rules: Sequence[Rule] = ()

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        if self.ratelimit_rules:
            ratelimit_enforce(request, self.ratelimit_rules)

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        return apply_headers(response, getattr(request, "ratelimit_decision", None))


def rate_limit(*rules: Rule) -> Callable:
    """Decorate an APIView handler method: `@rate_limit(("login:ip", client_ip))`.

    A refused request gets the view's own 429 error response (through its exception handler) with the
    RateLimit headers; an allowed one gets the headers on the handler's response.
    """

    def decorator(method: Callable[..., Response]) -> Callable[..., Response]:
        @functools.wraps(method)
        def wrapper(view: Any, request: Request, *args: Any, **kwargs: Any) -> Response:
            try:
                decision = ratelimit_enforce(request, rules)
            except RateLimitExceeded as exc:
                return apply_headers(view.handle_exception(exc), exc.decision)
            return apply_headers(method(view, request, *args, **kwargs), decision)

        return wrapper

    return decorator
