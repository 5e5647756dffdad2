"""Orders fixtures.

Orders-unit tests swap the payments port for `FakePaymentGateway` (no database, no provider) so
they test orders alone. Tests that request `real_payments` run against the registered payments
app with its dummy provider instead (end to end).
"""

import itertools
import threading
import uuid
from dataclasses import replace

import pytest

from apps.orders import ports
from apps.orders.ports import PaymentInfo
from tests.factories.inventory import stocked_variant
from tests.factories.orders import ADDRESS


class FakePaymentGateway:
    """In-memory PaymentGateway; records every call (thread-safe for the concurrency tests)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.payments: dict[str, PaymentInfo] = {}  # payment id → info
        self.by_order: dict[str, str] = {}  # order id → payment id
        self.calls: list[tuple[str, str]] = []
        self._seq = itertools.count(1)

    def _record(self, name: str, key: str) -> None:
        self.calls.append((name, key))

    def calls_of(self, name: str) -> list[str]:
        return [key for call, key in self.calls if call == name]

    def payment_open(self, *, order_id: str, amount=None, currency=None, batch=None) -> PaymentInfo:
        with self._lock:
            self._record("open", order_id)
            info = PaymentInfo(
                id=str(uuid.uuid4()), provider="fake", status="pending", checkout_url="", order_id=order_id
            )
            self.payments[info.id], self.by_order[order_id] = info, info.id
            return info

    def payment_checkout_start(self, *, payment_id: str, order=None, opened=None) -> PaymentInfo:
        with self._lock:
            self._record("checkout_start", payment_id)
            info = self.payments[payment_id]
            if not info.checkout_url:
                info = replace(info, checkout_url=f"https://pay.example/{payment_id}")
                self.payments[payment_id] = info
            return info

    def payment_refund(self, *, order_id: str, actor_id: int | None) -> PaymentInfo | None:
        with self._lock:
            self._record("refund", order_id)
            info = self.payments.get(self.by_order.get(order_id, ""))
            if info is None or info.status != "approved":
                return None
            info = self.payments[info.id] = replace(info, status="refunded")
            return info

    def payment_cancel(self, *, order_id: str) -> None:
        with self._lock:
            self._record("cancel", order_id)
            info = self.payments.get(self.by_order.get(order_id, ""))
            if info is not None and info.status == "pending":
                self.payments[info.id] = replace(info, status="cancelled")

    def payment_summary(self, *, order_ids: list[str]) -> dict[str, PaymentInfo]:
        with self._lock:
            self._record("summary", ",".join(order_ids))
            return {oid: self.payments[self.by_order[oid]] for oid in order_ids if oid in self.by_order}

    def approve(self, order_id: str) -> None:
        """Test helper: the provider captured this order's payment."""
        with self._lock:
            pid = self.by_order[order_id]
            self.payments[pid] = replace(self.payments[pid], status="approved")


@pytest.fixture(autouse=True)
def payment_fake(request):
    """Swap in the fake gateway unless the test asked for the real payments app."""
    previous = ports._gateway
    if "real_payments" in request.fixturenames:
        yield None
        return
    fake = FakePaymentGateway()
    ports.register_payment_gateway(fake)
    yield fake
    ports._gateway = previous


@pytest.fixture
def real_payments():
    """The payments app's own gateway (dummy provider), registered by PaymentsConfig.ready()."""
    gateway = ports.payment_gateway()
    assert not isinstance(gateway, FakePaymentGateway)
    return gateway


@pytest.fixture
def address() -> dict:
    return dict(ADDRESS)


@pytest.fixture
def variant(db):
    """A 10.00 variant with 10 units at the default location."""
    return stocked_variant(10)
