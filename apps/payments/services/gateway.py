"""The payments side of orders' PaymentGateway port (registered in PaymentsConfig.ready())."""

from decimal import Decimal
from typing import Any

from apps.orders.ports import PaymentInfo
from shop.db import WriteBatch

from ..models import Payment
from ..selectors import payment_latest_per_order
from .payments import payment_cancel, payment_checkout_start, payment_open, payment_refund


def payment_info(payment: Payment) -> PaymentInfo:
    return PaymentInfo(
        id=str(payment.pk),
        provider=payment.provider,
        status=payment.status,
        checkout_url=payment.checkout_url,
        order_id=str(payment.order_id),
    )


class PaymentsGateway:
    """Implements apps.orders.ports.PaymentGateway with the payments services."""

    def payment_open(
        self,
        *,
        order_id: str,
        amount: Decimal | None = None,
        currency: str | None = None,
        batch: WriteBatch | None = None,
    ) -> PaymentInfo:
        return payment_info(payment_open(order_id=order_id, amount=amount, currency=currency, batch=batch))

    def payment_checkout_start(
        self, *, payment_id: str, order: Any = None, opened: PaymentInfo | None = None
    ) -> PaymentInfo:
        return payment_info(payment_checkout_start(payment_id=payment_id, order=order, opened=opened))

    def payment_refund(self, *, order_id: str, actor_id: int | None) -> PaymentInfo | None:
        payment = payment_refund(order_id=order_id, actor_id=actor_id)
        return payment_info(payment) if payment is not None else None

    def payment_cancel(self, *, order_id: str) -> None:
        payment_cancel(order_id=order_id)

    def payment_summary(self, *, order_ids: list[str]) -> dict[str, PaymentInfo]:
        return {str(p.order_id): payment_info(p) for p in payment_latest_per_order(order_ids=order_ids)}
