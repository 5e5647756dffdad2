"""Payments fixtures: orders placed through the real services, and a fake Mercado Pago at the HTTP layer.

Mercado Pago is faked only with `responses` (the SDK speaks HTTP through requests); payloads follow
the shapes of Mercado Pago's API reference (preference create, payment get, refund create).
"""

import hashlib
import hmac
import itertools
import json
import time
from decimal import Decimal
from typing import Any

import pytest
import responses
from django.test import TestCase

from apps.inventory.models import Reservation, StockLevel, StockMovement
from apps.orders.services import RequestedLine, order_place
from shop.events.models import OutboxEvent
from tests.factories.inventory import stocked_variant
from tests.factories.orders import ADDRESS

MP_API = "https://api.mercadopago.com"
WEBHOOK_URL = "/api/v1/payments/webhooks/mercadopago"
SECRET = "test-webhook-secret"  # config/settings/test.py
_mp_ids = itertools.count(20359978)


def committed():
    """Run the after-commit callbacks registered inside (Celery tasks run inline in tests), as a real
    commit would; the test's own transaction never commits."""
    return TestCase.captureOnCommitCallbacks(execute=True)


def place(customer, *pairs):
    """Place an order through orders' service; returns (Order, PaymentInfo)."""
    lines = [RequestedLine(variant_id=v.pk, quantity=q) for v, q in pairs]
    placed = order_place(customer=customer, shipping_address=dict(ADDRESS), lines=lines)
    return placed.order, placed.payment


def stock(variant) -> tuple[int, int]:
    """(on_hand, reserved) of a variant, summed over locations."""
    rows = StockLevel.objects.filter(variant=variant).values_list("on_hand", "reserved")
    return sum(r[0] for r in rows), sum(r[1] for r in rows)


def movements(order) -> list[tuple[str, int, int]]:
    """(kind, on_hand_delta, reserved_delta) of the order's ledger rows, oldest first."""
    return list(
        StockMovement.objects.filter(reference=f"order:{order.id}")
        .order_by("id")
        .values_list("kind", "on_hand_delta", "reserved_delta")
    )


def reservation_statuses(order) -> list[str]:
    return list(Reservation.objects.filter(reference=f"order:{order.id}").values_list("status", flat=True))


def events(name: str, order) -> int:
    return OutboxEvent.objects.filter(name=name, payload__order_id=str(order.id)).count()


def sign(data_id: str | None, request_id: str | None, ts: str, secret: str = SECRET) -> str:
    """x-signature as Mercado Pago documents it, computed independently of the code under test."""
    manifest = ""
    if data_id:
        manifest += f"id:{data_id};"
    if request_id:
        manifest += f"request-id:{request_id};"
    manifest += f"ts:{ts};"
    digest = hmac.new(secret.encode(), manifest.encode(), hashlib.sha256).hexdigest()
    return f"ts={ts},v1={digest}"


def webhook_body(
    data_id: str, *, notification_id: int | None = None, action: str = "payment.updated"
) -> dict:
    """A Webhooks notification body as Mercado Pago sends it."""
    return {
        "id": notification_id if notification_id is not None else next(_mp_ids) + 10**9,
        "live_mode": False,
        "type": "payment",
        "date_created": "2026-11-22T10:00:00.000-04:00",
        "user_id": 448876418,
        "api_version": "v1",
        "action": action,
        "data": {"id": data_id},
    }


def post_webhook(
    client,
    data_id: str,
    *,
    body: dict | None = None,
    request_id: str = "req-1",
    ts=None,
    secret=SECRET,
    signature=None,
    query_id=None,
):
    """POST a signed webhook; `signature`/`query_id` override what is sent to test tampering."""
    ts = ts or str(int(time.time()))
    query_id = data_id if query_id is None else query_id
    headers = {"HTTP_X_REQUEST_ID": request_id}
    sig = sign(data_id, request_id, ts, secret) if signature is None else signature
    if sig:
        headers["HTTP_X_SIGNATURE"] = sig
    body = body if body is not None else webhook_body(data_id)
    with committed():
        return client.post(
            f"{WEBHOOK_URL}?data.id={query_id}&type=payment",
            data=json.dumps(body),
            content_type="application/json",
            **headers,
        )


def mp_payment(
    order, *, status: str, payment=None, mp_id: int | str, amount: Decimal | None = None, detail: str = ""
) -> dict[str, Any]:
    """GET /v1/payments/{id} response body, shaped like Mercado Pago's reference."""
    total = float(amount if amount is not None else order.total)
    return {
        "id": int(mp_id),
        "date_created": "2026-11-22T10:00:00.000-04:00",
        "date_approved": "2026-11-22T10:00:05.000-04:00" if status == "approved" else None,
        "date_last_updated": "2026-11-22T10:00:05.000-04:00",
        "operation_type": "regular_payment",
        "issuer_id": "25",
        "payment_method_id": "visa",
        "payment_type_id": "credit_card",
        "status": status,
        "status_detail": detail
        or {"approved": "accredited", "rejected": "cc_rejected_other_reason"}.get(
            status, "pending_contingency"
        ),
        "currency_id": order.currency,
        "description": f"Order {order.number}",
        "live_mode": False,
        "collector_id": 448876418,
        "payer": {"id": "1234567", "email": order.customer.email, "type": None},
        "metadata": {"payment_id": str(payment.id), "order_number": order.number}
        if payment is not None
        else {},
        "external_reference": str(order.id),
        "transaction_amount": total,
        "transaction_amount_refunded": 0,
        "transaction_details": {
            "net_received_amount": round(total * 0.95, 2),
            "total_paid_amount": total,
            "installment_amount": total,
        },
        "installments": 1,
        "captured": True,
        "refunds": [],
    }


def mp_refund(mp_id: int | str, amount: Decimal) -> dict[str, Any]:
    """POST /v1/payments/{id}/refunds response body."""
    return {
        "id": 1009042015,
        "payment_id": int(mp_id),
        "amount": float(amount),
        "metadata": {},
        "source": {"id": "448876418", "name": "Shop", "type": "collector"},
        "date_created": "2026-11-22T11:00:00.000-04:00",
        "unique_sequence_number": None,
        "refund_mode": "standard",
        "adjustment_amount": 0,
        "status": "approved",
        "reason": None,
        "labels": [],
        "amount_refunded_to_payer": float(amount),
        "partition_details": [],
    }


def mp_preference(pref_id: str = "448876418-0a1b2c3d-4e5f-6789-abcd-ef0123456789") -> dict[str, Any]:
    """POST /checkout/preferences response body (the fields we read plus a few others)."""
    return {
        "id": pref_id,
        "collector_id": 448876418,
        "client_id": "6295877106812064",
        "operation_type": "regular_payment",
        "date_created": "2026-11-22T10:00:00.000-04:00",
        "init_point": f"https://www.mercadopago.com.pe/checkout/v1/redirect?pref_id={pref_id}",
        "sandbox_init_point": f"https://sandbox.mercadopago.com.pe/checkout/v1/redirect?pref_id={pref_id}",
    }


@pytest.fixture
def variant(db):
    """A 20.00 variant with 10 units at the default location."""
    return stocked_variant(10, price=Decimal("20.00"))


@pytest.fixture
def mp():
    """Fake Mercado Pago at the HTTP layer; any unexpected request fails the test."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def mercadopago(settings, mp):
    """Mercado Pago is the active provider; preference creation answers like the real API."""
    settings.PAYMENTS_PROVIDER = "mercadopago"
    mp.add(responses.POST, f"{MP_API}/checkout/preferences", json=mp_preference(), status=201)
    return mp


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run after-commit callbacks (Celery tasks run inline in tests) inside a test transaction."""

    def runner():
        return django_capture_on_commit_callbacks(execute=True)

    return runner
