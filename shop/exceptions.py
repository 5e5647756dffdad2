"""Application errors: every business failure has a stable machine-readable code.

Services raise these; the API layer (shop.api.exceptions) renders them as
{"error": {"code", "message", "details"}} with the class's HTTP status.
"""

from typing import Any


class ApplicationError(Exception):
    """Base of every expected business error."""

    status_code: int = 400
    code: str = "invalid"
    default_message: str = "The request could not be processed."

    def __init__(self, message: str | None = None, *, code: str | None = None, details: Any = None) -> None:
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details if details is not None else {}
        super().__init__(self.message)


class ValidationFailed(ApplicationError):
    status_code = 400
    code = "invalid"
    default_message = "Invalid input."


class NotFound(ApplicationError):
    status_code = 404
    code = "not_found"
    default_message = "Not found."


class PermissionDenied(ApplicationError):
    status_code = 403
    code = "permission_denied"
    default_message = "You do not have permission to perform this action."


class Conflict(ApplicationError):
    """The request conflicts with the current state (illegal transition, stock, …)."""

    status_code = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = "This status change is not allowed."


class InsufficientStock(Conflict):
    code = "insufficient_stock"
    default_message = "Not enough stock."


class Unprocessable(ApplicationError):
    status_code = 422
    code = "unprocessable"
    default_message = "The request is well-formed but cannot be processed."


class RateLimited(ApplicationError):
    status_code = 429
    code = "rate_limited"
    default_message = "Too many requests."

    def __init__(self, message: str | None = None, *, retry_after: int = 1, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)
