"""Purchasing errors with stable codes."""

from shop.exceptions import Conflict


class OverReceipt(Conflict):
    """More units received than a line still expects (details list every offending line)."""

    code = "over_receipt"
    default_message = "Cannot receive more than is outstanding on the order."
