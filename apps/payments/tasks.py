"""Payments' Celery tasks: they only call services."""

from celery import shared_task

from .exceptions import PaymentProviderUnavailable
from .services import payment_notification_process, payment_notifications_retry


@shared_task(
    autoretry_for=(PaymentProviderUnavailable,),
    retry_backoff=5,
    retry_backoff_max=600,
    max_retries=8,
    acks_late=True,
)
def payment_notification_process_task(notification_id: int) -> str:
    """Process one recorded provider notification (fetch the payment, apply its status)."""
    return payment_notification_process(notification_id=notification_id)


@shared_task
def payment_notifications_retry_task() -> int:
    """Process notifications left unprocessed (provider down, worker lost)."""
    return payment_notifications_retry()
