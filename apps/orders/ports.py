"""The port through which orders reaches payments (payments imports orders, never the reverse).

The payments app registers its implementation in `PaymentsConfig.ready()`; orders only ever calls
`payment_gateway()`.
"""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

from django.core.exceptions import ImproperlyConfigured

from shop.db import WriteBatch


@dataclass(frozen=True)
class PaymentInfo:
    id: str  # Payment id (opaque string, e.g. str(uuid))
    provider: str  # "dummy" | "mercadopago"
    status: str  # "pending" | "approved" | "rejected" | "cancelled" | "refunded"
    checkout_url: str
    order_id: str = ""  # the order it pays (opaque string)


class PaymentGateway(Protocol):
    def payment_open(
        self,
        *,
        order_id: str,
        amount: Decimal | None = None,
        currency: str | None = None,
        batch: WriteBatch | None = None,
    ) -> PaymentInfo:
        """Create the pending Payment (amount = order.total) inside order_place's transaction.

        `amount`/`currency` are the order's total and currency when the caller holds them (saves
        reading the order back); without them the implementation reads the order. With `batch` the
        payment row joins the caller's pending writes (written at its flush) instead of being written now.

        Returns its info with checkout_url "".
        """
        ...

    def payment_checkout_start(
        self, *, payment_id: str, order: Any = None, opened: PaymentInfo | None = None
    ) -> PaymentInfo:
        """Create the provider checkout after order_place committed (outside the stock lock).

        Uses a deterministic provider idempotency key derived from the payment id and is idempotent:
        a second call returns the stored URL without a second provider call. `order`: the payment's
        order as just committed (customer and lines loaded), so it need not be read back; `opened`:
        what `payment_open` returned in that transaction, so the payment need not be read either.
        """
        ...

    def payment_refund(self, *, order_id: str, actor_id: int | None) -> PaymentInfo | None:
        """Refund the captured payment of a paid order (inside orders' cancel/refund services).

        Returns None when there is no captured payment.
        """
        ...

    def payment_cancel(self, *, order_id: str) -> None:
        """Mark a pending payment cancelled (cancellation or expiry of an unpaid order)."""
        ...

    def payment_summary(self, *, order_ids: list[str]) -> dict[str, PaymentInfo]:
        """Return the latest payment per order, in one query (serializing lists without N+1)."""
        ...


_gateway: PaymentGateway | None = None


def register_payment_gateway(gateway: PaymentGateway) -> None:
    """Install the payments implementation (called from PaymentsConfig.ready(); tests may swap it)."""
    global _gateway
    _gateway = gateway


def payment_gateway() -> PaymentGateway:
    """Return the registered gateway; raise ImproperlyConfigured if payments has not registered one."""
    if _gateway is None:
        raise ImproperlyConfigured("No payment gateway registered (is apps.payments installed?).")
    return _gateway
