"""The payment provider interface: what the payments services need from Mercado Pago or a stand-in.

Providers are stateless adapters around a remote API. They never touch our tables' state: services
decide what to store. Every call that can fail remotely raises `ProviderError`.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from apps.orders.models import Order
    from apps.payments.models import Payment


class ProviderError(Exception):
    """The provider could not be reached or refused the call (network, 4xx/5xx, unexpected body)."""

    def __init__(self, message: str, *, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class ProviderPayment:
    """A provider payment, normalized: `status` is one of Payment.Status values."""

    status: str
    external_reference: str  # our order id, as we sent it when creating the checkout
    amount: Decimal | None
    provider_payment_id: str
    raw: dict[str, Any] = field(default_factory=dict)
    payment_id: str = ""  # our Payment id, when the provider echoes it back (metadata)


class PaymentProvider(Protocol):
    name: str

    def create_checkout(self, payment: "Payment", order: "Order") -> tuple[str, str]:
        """Create the hosted checkout; return (provider_reference, checkout_url)."""
        ...

    def fetch_payment(self, provider_payment_id: str) -> ProviderPayment:
        """Return the provider's current view of one of its payments."""
        ...

    def refund(self, payment: "Payment", provider_payment_id: str | None = None) -> dict[str, Any]:
        """Refund a captured provider payment in full (default: the payment's own); return the raw answer."""
        ...
