"""Engagement errors with stable codes (rendered by shop.api.exceptions)."""

from shop.exceptions import ApplicationError


class BatchTooLarge(ApplicationError):
    status_code = 413
    code = "batch_too_large"
    default_message = "Too many events in one request."


class PayloadTooLarge(ApplicationError):
    status_code = 413
    code = "payload_too_large"
    default_message = "The request body is too large."
