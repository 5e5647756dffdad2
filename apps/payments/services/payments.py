"""Payment lifecycle: open, start the provider checkout, apply provider statuses, refund, cancel.

Lock order: the order row before the payment row — the same order orders' services use when they call
the gateway (order → payment) — so a webhook and a cancellation racing on one order cannot deadlock.
"""

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.orders.models import Order
from apps.orders.ports import PaymentInfo
from apps.orders.services import order_mark_paid, order_payment_failed, order_refund
from shop.db import ASYNC_COMMIT, WriteBatch
from shop.exceptions import Conflict, InvalidTransition, NotFound

from ..exceptions import PaymentProviderUnavailable
from ..models import Payment, PaymentStatus
from ..providers import ProviderError, get_provider

logger = logging.getLogger(__name__)
S = PaymentStatus

# Statuses only move to a higher rank: a late `pending` after `approved` or a `rejected` after
# `approved` changes nothing, `refunded` is final. `approved` outranks `rejected`/`cancelled` on
# purpose: money captured after we gave up on a payment must still be seen, so it can be refunded.
STATUS_RANK = {S.PENDING: 0, S.REJECTED: 1, S.CANCELLED: 1, S.APPROVED: 2, S.REFUNDED: 3}


@dataclass(frozen=True)
class StatusChange:
    """What `payment_status_apply` did: `changed` is a status step; `note` anything else it did."""

    payment: Payment
    previous: str
    changed: bool
    note: str = ""


def _merge_raw(payment: Payment, key: str, data: Any) -> None:
    payment.raw = {**(payment.raw or {}), key: data}


def payment_open(
    *,
    order_id: str,
    amount: Decimal | None = None,
    currency: str | None = None,
    batch: WriteBatch | None = None,
) -> Payment:
    """Create the pending payment of an order for its total, with the configured provider.

    Checkout passes the total and currency of the order it has just inserted in the same transaction
    (no read back), and its `batch`: the row is then written with checkout's other writes, in one
    statement. Without them the total is read from the order and the row written now. One INSERT needs
    no atomic block of its own: inside checkout's transaction a savepoint would only cost two round trips.
    """
    if amount is None or currency is None:
        order = Order.objects.filter(pk=order_id).only("id", "total", "currency").first()
        if order is None:
            raise NotFound("Order not found.")
        amount, currency = order.total, order.currency
    provider = get_provider()  # fail loudly on a misconfigured provider, before any money moves
    payment = Payment(order_id=order_id, provider=provider.name, amount=amount, currency=currency)
    if batch is None:
        payment.save(force_insert=True)
    else:
        batch.insert([payment])
    return payment


def _commit_without_flush_wait() -> None:
    # The checkout URL is state we can always re-derive: the provider call carries a key derived from
    # the payment id, so repeating it returns the same checkout. Committing it asynchronously saves a
    # WAL flush (~1.7 ms) per checkout; at worst a database crash in the next few hundred milliseconds
    # leaves the payment without its URL — the same state as a provider outage at checkout, which is
    # already handled — and in checkout the idempotency result committed right after flushes it anyway.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def _provider_checkout(payment: Payment) -> tuple[str, str]:
    try:
        return get_provider(payment.provider).create_checkout(payment, payment.order)
    except ProviderError as exc:
        logger.warning("payment_checkout_failed", extra={"payment_id": str(payment.pk), "error": str(exc)})
        raise PaymentProviderUnavailable(details={"provider": payment.provider}) from exc


def _store_checkout(payment: Payment, reference: str, url: str) -> None:
    payment.provider_reference, payment.checkout_url = reference, url
    _merge_raw(payment, "checkout", {"reference": reference, "url": url})


# Stores a fresh checkout unless the payment has one already or has left `pending`; one statement that
# commits without waiting for the WAL flush (see _commit_without_flush_wait).
_STORE_FRESH_CHECKOUT_SQL = (
    "UPDATE {table} SET provider_reference = %s, checkout_url = %s, raw = %s, updated_at = %s "
    f"FROM {ASYNC_COMMIT} AS _async "
    "WHERE id = %s AND checkout_url = '' AND status = %s"
)


def _checkout_start_fresh(order: Order, opened: PaymentInfo) -> Payment:
    """Checkout's path: `order` committed a moment ago with the payment `payment_open` returned as `opened`.

    Nothing else knows that payment yet, and everything about it is in hand (payment_open wrote the
    order's total and currency, pending, no URL), so nothing is read and nothing locked: the provider
    call, then one conditional UPDATE committed without a flush wait. Should the payment have moved on
    meanwhile, the stored row wins; the provider call carried the same idempotency key either way.
    """
    if opened.order_id != str(order.pk):
        raise NotFound("Payment not found.")
    payment = Payment(
        id=opened.id,
        order=order,
        provider=opened.provider,
        status=opened.status,
        checkout_url=opened.checkout_url,
        amount=order.total,
        currency=order.currency,
    )
    payment._state.adding = False  # noqa: SLF001 - payment_open wrote this row
    if payment.checkout_url or payment.status != S.PENDING:
        return payment
    reference, url = _provider_checkout(payment)
    _store_checkout(payment, reference, url)
    payment.updated_at = timezone.now()
    if connection.vendor == "postgresql":
        table = connection.ops.quote_name(Payment._meta.db_table)
        raw = Payment._meta.get_field("raw").get_db_prep_value(payment.raw, connection)
        with connection.cursor() as cursor:
            cursor.execute(
                _STORE_FRESH_CHECKOUT_SQL.format(table=table),
                [reference, url, raw, payment.updated_at, payment.pk, S.PENDING],
            )
            stored = cursor.rowcount == 1
    else:
        fields = {"provider_reference": reference, "checkout_url": url, "raw": payment.raw}
        stored = bool(
            Payment.objects.filter(pk=payment.pk, checkout_url="", status=S.PENDING).update(
                **fields, updated_at=payment.updated_at
            )
        )
    if not stored:
        payment = Payment.objects.get(pk=payment.pk)
        payment.order = order
    return payment


def payment_checkout_start(
    *, payment_id: str, order: Order | None = None, opened: PaymentInfo | None = None
) -> Payment:
    """Create the provider checkout of a pending payment and store its URL (idempotent).

    Runs after the order's transaction committed, outside the stock locks. The payment row stays
    locked during the provider call so concurrent callers make exactly one call; the others then
    read the stored URL. The provider call itself carries a key derived from the payment id, so even
    a retry after a lost response cannot create a second checkout.

    Checkout passes the `order` (with its customer and lines) it has just committed and the payment
    info `payment_open` returned in that transaction (`opened`): then nothing is read or locked
    (`_checkout_start_fresh`). With the order alone, the lock reads the payment row only.
    """
    if order is not None and opened is not None and opened.id == str(payment_id):
        return _checkout_start_fresh(order, opened)
    with transaction.atomic():
        _commit_without_flush_wait()
        locked = Payment.objects.select_for_update(of=("self",)).filter(pk=payment_id)
        if order is None:
            locked = locked.select_related("order__customer")
        # [:1] rather than first(): no ORDER BY to compile for a primary-key lookup.
        payment = next(iter(locked[:1]), None)
        if payment is None or (order is not None and payment.order_id != order.pk):
            raise NotFound("Payment not found.")
        if order is not None:
            payment.order = order
        if payment.checkout_url or payment.status != S.PENDING:
            return payment
        reference, url = _provider_checkout(payment)
        _store_checkout(payment, reference, url)
        payment.save(update_fields=["provider_reference", "checkout_url", "raw", "updated_at"])
    return payment


def _refund_at_provider(payment: Payment, *, reason: str) -> None:
    """Give the money back and mark the (locked) payment refunded."""
    try:
        answer = get_provider(payment.provider).refund(payment)
    except ProviderError as exc:
        logger.error("payment_refund_failed", extra={"payment_id": str(payment.pk), "error": str(exc)})
        raise PaymentProviderUnavailable(
            "The refund could not be made.", details={"payment": str(payment.pk)}
        ) from exc
    payment.status, payment.status_reason, payment.refunded_at = S.REFUNDED, reason[:255], timezone.now()
    _merge_raw(payment, "refund", answer)
    payment.save(update_fields=["status", "status_reason", "refunded_at", "raw", "updated_at"])
    logger.info("payment_refunded", extra={"payment_id": str(payment.pk), "reason": reason})


def _lock(payment_id: Any) -> Payment:
    order_id = Payment.objects.filter(pk=payment_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise NotFound("Payment not found.")
    list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True))
    return Payment.objects.select_for_update().get(pk=payment_id)


def _settle_approved(payment: Payment, *, amount: Any) -> None:
    """Mark the order paid, or refund money we cannot accept (order gone, wrong amount, paid twice)."""
    problem = ""
    if amount is not None and amount != payment.amount:
        problem = f"amount mismatch: provider charged {amount}, expected {payment.amount}"
    elif Payment.objects.filter(order_id=payment.order_id, status=S.APPROVED).exclude(pk=payment.pk).exists():
        problem = "order already paid by another payment"
    else:
        try:
            with transaction.atomic():
                order_mark_paid(order_id=str(payment.order_id), reason=f"payment {payment.pk} approved")
        except Conflict as exc:  # cancelled/expired order (invalid_transition), stock gone
            problem = f"order could not be paid ({exc.code}): {exc.message}"
    if problem:
        _refund_at_provider(payment, reason=f"refunded automatically: {problem}")


def _settle_refunded_at_provider(payment: Payment, *, previous: str) -> None:
    order_id = str(payment.order_id)
    if previous == S.APPROVED:
        # Refunded or charged back at the provider (not by us): the order follows the money.
        try:
            with transaction.atomic():
                order_refund(order_id=order_id, reason="payment refunded at the provider")
        except InvalidTransition:
            pass  # already cancelled/refunded on our side
    else:
        order_payment_failed(order_id=order_id, reason="payment refunded before capture")


def _refund_second_capture(payment: Payment, *, provider_payment_id: str) -> None:
    """The buyer paid twice on one checkout (two tabs, a retry): give the extra capture back."""
    try:
        answer = get_provider(payment.provider).refund(payment, provider_payment_id=provider_payment_id)
    except ProviderError as exc:
        raise PaymentProviderUnavailable(
            "The refund could not be made.", details={"payment": str(payment.pk)}
        ) from exc
    extra = [*(payment.raw or {}).get("second_captures", []), {"id": provider_payment_id, "refund": answer}]
    _merge_raw(payment, "second_captures", extra)
    payment.save(update_fields=["raw", "updated_at"])
    logger.warning(
        "payment_second_capture_refunded",
        extra={"payment_id": str(payment.pk), "provider_payment_id": provider_payment_id},
    )


@transaction.atomic
def payment_status_apply(
    *,
    payment_id: Any,
    status: str,
    raw: dict[str, Any] | None = None,
    provider_payment_id: str = "",
    amount: Any = None,
    reason: str = "",
) -> StatusChange:
    """Move a payment to a provider-reported status if it is a step forward; apply it to the order.

    Approved → order paid (stock sold) or, if the order cannot take it, refunded at once;
    rejected/cancelled → order cancelled and stock released. Anything that is not a step forward
    (duplicates, late or out-of-order notifications) changes nothing. Once a provider payment has been
    captured for this payment, reports about another provider payment on the same checkout never move
    it: an extra approved capture is refunded, anything else is ignored.
    """
    if status not in STATUS_RANK:
        raise ValueError(f"unknown payment status {status!r}")
    payment = _lock(payment_id)
    previous = payment.status
    captured = previous in (S.APPROVED, S.REFUNDED)
    other = bool(provider_payment_id and payment.provider_payment_id) and (
        provider_payment_id != payment.provider_payment_id
    )
    if captured and other:
        if status == S.APPROVED:
            _refund_second_capture(payment, provider_payment_id=provider_payment_id)
            return StatusChange(payment, previous, False, f"refunded a second capture {provider_payment_id}")
        return StatusChange(
            payment,
            previous,
            False,
            f"ignored: {status} for provider payment {provider_payment_id}, not ours",
        )
    if STATUS_RANK[status] <= STATUS_RANK[previous]:
        return StatusChange(payment, previous, False)
    payment.status, payment.status_reason = status, (reason or f"provider reported {status}")[:255]
    if provider_payment_id:
        payment.provider_payment_id = provider_payment_id
    if raw is not None:
        _merge_raw(payment, "payment", raw)
    now = timezone.now()
    if status == S.APPROVED:
        payment.approved_at = now
    if status == S.REFUNDED:
        payment.refunded_at = now
    payment.save()
    if status == S.APPROVED:
        _settle_approved(payment, amount=amount)
    elif status in (S.REJECTED, S.CANCELLED):
        order_payment_failed(order_id=str(payment.order_id), reason=f"payment {status}")
    elif status == S.REFUNDED:
        _settle_refunded_at_provider(payment, previous=previous)
    return StatusChange(payment, previous, True)


@transaction.atomic
def payment_refund(*, order_id: str, actor_id: int | None = None) -> Payment | None:
    """Refund the captured payment of an order at the provider; None when nothing was captured.

    Idempotent: an already refunded payment is returned as it is. Called inside orders' cancel and
    refund services, which already hold the order lock.
    """
    list(Order.objects.select_for_update().filter(pk=order_id).values_list("pk", flat=True))
    payments = list(
        Payment.objects.select_for_update()
        .filter(order_id=order_id, status__in=[S.APPROVED, S.REFUNDED])
        .order_by("-created_at")
    )
    reason = f"refunded by user {actor_id}" if actor_id else "refunded"
    for payment in payments:
        if payment.status == S.APPROVED:
            _refund_at_provider(payment, reason=reason)
    return payments[0] if payments else None


@transaction.atomic
def payment_cancel(*, order_id: str) -> int:
    """Mark the pending payments of an order cancelled (the order was cancelled or expired unpaid)."""
    pending = list(Payment.objects.select_for_update().filter(order_id=order_id, status=S.PENDING))
    for payment in pending:
        payment.status, payment.status_reason = S.CANCELLED, "order cancelled before payment"
        payment.save(update_fields=["status", "status_reason", "updated_at"])
    return len(pending)


def payment_provider_is_dummy() -> bool:
    """Whether the development provider is the active one (enables /payments/{id}/simulate)."""
    return settings.PAYMENTS_PROVIDER == "dummy"
