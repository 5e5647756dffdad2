"""Orders' business errors, each with a stable code (rendered by shop.api.exceptions)."""

from shop.exceptions import Conflict, ValidationFailed


class PromotionNotFound(ValidationFailed):
    code = "promotion_not_found"
    default_message = "No promotion matches this code."


class VoucherNotFound(ValidationFailed):
    code = "voucher_not_found"
    default_message = "No voucher matches this code."


class CartEmpty(ValidationFailed):
    code = "cart_empty"
    default_message = "The cart is empty."


class VariantUnavailable(ValidationFailed):
    code = "variant_unavailable"
    default_message = "Some variants do not exist or are not for sale."


class DuplicateTrackingNumber(Conflict):
    code = "duplicate_tracking_number"
    default_message = "This carrier already has a shipment with this tracking number."
