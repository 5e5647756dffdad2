"""Payments' business errors, each with a stable code (rendered by shop.api.exceptions)."""

from shop.exceptions import ApplicationError


class InvalidSignature(ApplicationError):
    """A webhook whose x-signature is missing, wrong or stale: nothing is recorded."""

    status_code = 401
    code = "invalid_signature"
    default_message = "The notification signature is missing or invalid."


class PaymentProviderUnavailable(ApplicationError):
    """The payment provider could not be reached or refused the call; retrying later is safe."""

    status_code = 502
    code = "payment_provider_error"
    default_message = "The payment provider could not complete the request."
