from celery import shared_task

from .services import orders_expire_unpaid


@shared_task
def orders_expire_unpaid_task() -> int:
    """Cancel orders left unpaid past SHOP_PAYMENT_TIMEOUT (beat)."""
    return orders_expire_unpaid()
