"""Catalog errors with stable codes (rendered by shop.api.exceptions)."""

from shop.exceptions import ValidationFailed


class InvalidImage(ValidationFailed):
    code = "invalid"
    default_message = "The upload is not a supported image."
