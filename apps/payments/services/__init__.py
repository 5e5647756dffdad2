"""Payments' write services (one entry point per behaviour)."""

from .gateway import PaymentsGateway, payment_info
from .notifications import (
    mercadopago_notification_receive,
    payment_notification_process,
    payment_notification_record,
    payment_notifications_retry,
    payment_simulate,
)
from .payments import (
    STATUS_RANK,
    StatusChange,
    payment_cancel,
    payment_checkout_start,
    payment_open,
    payment_provider_is_dummy,
    payment_refund,
    payment_status_apply,
)

__all__ = [
    "STATUS_RANK",
    "PaymentsGateway",
    "StatusChange",
    "mercadopago_notification_receive",
    "payment_cancel",
    "payment_checkout_start",
    "payment_info",
    "payment_notification_process",
    "payment_notification_record",
    "payment_notifications_retry",
    "payment_open",
    "payment_provider_is_dummy",
    "payment_refund",
    "payment_simulate",
    "payment_status_apply",
]
