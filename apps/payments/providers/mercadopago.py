"""Mercado Pago through the official SDK: Checkout Pro preferences, payment lookups, refunds.

Only this module talks to Mercado Pago. Write calls carry a deterministic `x-idempotency-key`
derived from our payment id, so a retried call (network error, worker restart, concurrent request)
can never create a second preference or a second refund.
"""

from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import mercadopago
import requests
from django.conf import settings
from mercadopago.config import RequestOptions
from mercadopago.errors.exceptions import MercadoPagoError

from .base import ProviderError, ProviderPayment

if TYPE_CHECKING:
    from apps.orders.models import Order
    from apps.payments.models import Payment

NAME = "mercadopago"
# A checkout is created in the buyer's request path: fail fast rather than hold a worker 60 s
# (the SDK default); the deterministic idempotency key makes a later retry safe.
TIMEOUT_SECONDS = 10.0
# The SDK retries connection errors (and 5xx on reads) up to 3 times by default; one retry bounds a
# checkout in the buyer's request to ~20 s. Writes are safe to retry: they carry an idempotency key.
MAX_RETRIES = 1
CENT = Decimal("0.01")

# Mercado Pago payment statuses → ours. `authorized` is not captured yet, `in_mediation` is a dispute
# on an approved payment (our status never goes back, so it stays approved), a chargeback takes the
# money back like a refund.
STATUS_MAP = {
    "pending": "pending",
    "authorized": "pending",
    "in_process": "pending",
    "in_mediation": "pending",
    "approved": "approved",
    "rejected": "rejected",
    "cancelled": "cancelled",
    "refunded": "refunded",
    "charged_back": "refunded",
}


def checkout_idempotency_key(payment_id: str) -> str:
    return f"shop-checkout-{payment_id}"


def refund_idempotency_key(payment_id: str, provider_payment_id: str | None = None) -> str:
    if provider_payment_id is None:
        return f"shop-refund-{payment_id}"
    # A second capture on the same checkout has its own refund (the header allows 64 characters).
    return f"shop-refund-{payment_id.replace('-', '')}-{provider_payment_id}"[:64]


def _number(amount: Decimal) -> float:
    # The API takes JSON numbers; amounts are already rounded to cents.
    return float(amount.quantize(CENT, rounding=ROUND_HALF_UP))


def preference_items(order: "Order") -> list[dict[str, Any]]:
    """Items whose sum is exactly the order total; one summary item when discounts make that impossible.

    Mercado Pago charges the sum of the items, so itemizing must never change the amount.
    """
    items: list[dict[str, Any]] = []
    for line in order.lines.all():
        unit = (line.line_total / line.quantity).quantize(CENT)
        quantity = line.quantity
        if unit * quantity != line.line_total:  # a line discount that does not split into cents
            unit, quantity = line.line_total, 1
        items.append(
            {
                "id": line.sku,
                "title": f"{line.name}"[:256],
                "quantity": quantity,
                "unit_price": _number(unit),
                "currency_id": order.currency,
            }
        )
    if order.shipping_total > 0:
        items.append(
            {
                "id": "shipping",
                "title": "Shipping",
                "quantity": 1,
                "unit_price": _number(order.shipping_total),
                "currency_id": order.currency,
            }
        )
    itemized = sum((Decimal(str(i["unit_price"])) * i["quantity"] for i in items), Decimal("0"))
    if not items or itemized != order.total:
        items = [
            {
                "id": order.number,
                "title": f"Order {order.number}",
                "quantity": 1,
                "unit_price": _number(order.total),
                "currency_id": order.currency,
            }
        ]
    return items


def preference_body(payment: "Payment", order: "Order") -> dict[str, Any]:
    """The Checkout Pro preference for one payment of an order."""
    public = settings.SHOP_PUBLIC_URL.rstrip("/")
    back = f"{public}/orders/{order.id}"
    customer = order.customer
    body: dict[str, Any] = {
        "items": preference_items(order),
        "payer": {"email": customer.email, "name": customer.first_name, "surname": customer.last_name},
        "back_urls": {
            "success": f"{back}?payment=success",
            "failure": f"{back}?payment=failure",
            "pending": f"{back}?payment=pending",
        },
        "auto_return": "approved",
        "external_reference": str(order.id),
        "metadata": {"payment_id": str(payment.id), "order_number": order.number},
        # The order expires after SHOP_PAYMENT_TIMEOUT: stop accepting payments for it then.
        "expires": True,
        "expiration_date_to": (order.created_at + settings.SHOP_PAYMENT_TIMEOUT).isoformat(
            timespec="milliseconds"
        ),
    }
    if settings.MERCADOPAGO_NOTIFICATION_URL:
        body["notification_url"] = settings.MERCADOPAGO_NOTIFICATION_URL
    return body


def normalize_payment(data: dict[str, Any]) -> ProviderPayment:
    """Map a GET /v1/payments/{id} body to our status vocabulary."""
    mp_status = str(data.get("status") or "")
    if mp_status not in STATUS_MAP:
        raise ProviderError(f"Unknown Mercado Pago payment status {mp_status!r}", body=data)
    amount = data.get("transaction_amount")
    metadata = data.get("metadata") or {}
    return ProviderPayment(
        status=STATUS_MAP[mp_status],
        external_reference=str(data.get("external_reference") or ""),
        amount=Decimal(str(amount)).quantize(CENT) if amount is not None else None,
        provider_payment_id=str(data.get("id") or ""),
        raw=data,
        payment_id=str(metadata.get("payment_id") or ""),
    )


class MercadoPagoProvider:
    name = NAME

    def __init__(self, *, access_token: str) -> None:
        self._token = access_token
        self._sdk = mercadopago.SDK(access_token, request_options=self._options())

    def _options(self, idempotency_key: str | None = None) -> RequestOptions:
        headers = {"x-idempotency-key": idempotency_key} if idempotency_key else None
        return RequestOptions(
            access_token=self._token,
            connection_timeout=TIMEOUT_SECONDS,
            custom_headers=headers,
            max_retries=MAX_RETRIES,
        )

    @staticmethod
    def _call(what: str, call: Any) -> dict[str, Any]:
        try:
            result = call()
        except (requests.RequestException, MercadoPagoError) as exc:
            raise ProviderError(f"Mercado Pago {what} failed: {exc}") from exc
        status, body = result.get("status"), result.get("response")
        if not isinstance(status, int) or not 200 <= status < 300 or not isinstance(body, dict):
            raise ProviderError(f"Mercado Pago {what} answered {status}", status=status, body=body)
        return body

    def create_checkout(self, payment: "Payment", order: "Order") -> tuple[str, str]:
        options = self._options(checkout_idempotency_key(str(payment.id)))
        body = self._call(
            "preference create",
            lambda: self._sdk.preference(options).create(preference_body(payment, order)),
        )
        if not body.get("id") or not body.get("init_point"):
            raise ProviderError("Mercado Pago preference has no id or init_point", body=body)
        return str(body["id"]), str(body["init_point"])

    def fetch_payment(self, provider_payment_id: str) -> ProviderPayment:
        body = self._call("payment get", lambda: self._sdk.payment().get(provider_payment_id))
        return normalize_payment(body)

    def refund(self, payment: "Payment", provider_payment_id: str | None = None) -> dict[str, Any]:
        own = provider_payment_id in (None, payment.provider_payment_id)
        target = payment.provider_payment_id if own else provider_payment_id
        if not target:
            raise ProviderError(f"Payment {payment.id} has no Mercado Pago payment to refund")
        key = refund_idempotency_key(str(payment.id), None if own else target)
        options = self._options(key)
        return self._call("refund create", lambda: self._sdk.refund(options).create(target))
