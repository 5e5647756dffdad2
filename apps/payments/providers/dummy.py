"""Development provider: no remote API, a local page with Approve / Reject buttons.

Its "remote" payments are self-describing ids, `dummy-<our payment uuid>-<status>`, minted by the
simulate endpoint; `fetch_payment` decodes them, so a simulated notification is processed by exactly
the same code path as a Mercado Pago one (record notification → fetch → apply).

The checkout page is opened by the buyer's browser, which has no JWT: its URL carries a signed token
bound to the payment id. The token only authorizes deciding a payment that is still pending, and the
first decision is final (statuses never go backwards), so it is single-use in effect.
"""

import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .base import ProviderError, ProviderPayment

if TYPE_CHECKING:
    from apps.orders.models import Order
    from apps.payments.models import Payment

NAME = "dummy"
_TOKEN_SALT = "payments.dummy-checkout"
SIMULATED_STATUSES = ("approved", "rejected")


def checkout_token_make(payment_id: str) -> str:
    """Sign a token that lets the holder of the checkout URL decide this payment."""
    return signing.TimestampSigner(salt=_TOKEN_SALT).sign(str(payment_id))


def checkout_token_valid(token: str, payment_id: str) -> bool:
    """Check the token was made for this payment and is younger than twice the payment timeout."""
    max_age = settings.SHOP_PAYMENT_TIMEOUT * 2
    try:
        signed_id = signing.TimestampSigner(salt=_TOKEN_SALT).unsign(token, max_age=max_age)
    except signing.BadSignature:  # also SignatureExpired
        return False
    return signed_id == str(payment_id)


def checkout_url(payment_id: str) -> str:
    """Absolute URL of the dummy checkout page, token included."""
    path = reverse("payment-dummy-checkout", kwargs={"payment_id": payment_id})
    query = urlencode({"token": checkout_token_make(payment_id)})
    return f"{settings.SHOP_PUBLIC_URL.rstrip('/')}{path}?{query}"


def simulated_payment_id(payment_id: str, status: str) -> str:
    return f"dummy-{payment_id}-{status}"


class DummyProvider:
    name = NAME

    def create_checkout(self, payment: "Payment", order: "Order") -> tuple[str, str]:
        return f"dummy-checkout-{payment.id}", checkout_url(str(payment.id))

    def fetch_payment(self, provider_payment_id: str) -> ProviderPayment:
        from apps.payments.models import Payment

        prefix, _, rest = provider_payment_id.partition("-")
        payment_id, _, status = rest.rpartition("-")
        try:
            uuid.UUID(payment_id)
        except ValueError:
            payment_id = ""
        if prefix != "dummy" or status not in SIMULATED_STATUSES or not payment_id:
            raise ProviderError(f"Unknown dummy payment {provider_payment_id!r}", status=404)
        row = Payment.objects.filter(pk=payment_id).values("order_id", "amount").first()
        if row is None:
            raise ProviderError(f"Unknown dummy payment {provider_payment_id!r}", status=404)
        amount: Decimal = row["amount"]
        raw: dict[str, Any] = {
            "id": provider_payment_id,
            "status": status,
            "external_reference": str(row["order_id"]),
            "transaction_amount": str(amount),
            "metadata": {"payment_id": payment_id},
        }
        return ProviderPayment(
            status=status,
            external_reference=str(row["order_id"]),
            amount=amount,
            provider_payment_id=provider_payment_id,
            raw=raw,
            payment_id=payment_id,
        )

    def refund(self, payment: "Payment", provider_payment_id: str | None = None) -> dict[str, Any]:
        refunded = provider_payment_id or payment.provider_payment_id
        return {
            "id": f"dummy-refund-{refunded or payment.id}",
            "payment_id": refunded,
            "status": "approved",
            "amount": str(payment.amount),
        }
