"""Provider notifications: verify, record once, process after commit.

Every delivery that passes verification is kept as a PaymentNotification, deduplicated by a unique
`provider_key`. Processing never trusts the notification body: it fetches the payment from the
provider and applies that status (`payment_status_apply`), which is monotonic and idempotent — so
duplicates, retries and out-of-order deliveries are harmless.
"""

import logging
import uuid
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from shop.exceptions import NotFound

from ..exceptions import InvalidSignature, PaymentProviderUnavailable
from ..models import Payment, PaymentNotification, ProviderName
from ..providers import ProviderError, ProviderPayment, get_provider
from ..providers.dummy import SIMULATED_STATUSES, simulated_payment_id
from ..webhooks import signature_verify
from .payments import payment_provider_is_dummy, payment_status_apply

logger = logging.getLogger(__name__)

# Headers worth keeping for support (correlation with the provider's dashboard); never auth headers.
KEPT_HEADERS = ("x-request-id", "x-signature", "user-agent", "content-type")


def _enqueue(notification_id: int) -> None:
    from ..tasks import payment_notification_process_task

    payment_notification_process_task.delay(notification_id)


def payment_notification_record(
    *,
    provider: str,
    provider_key: str,
    topic: str,
    action: str,
    resource_id: str,
    payload: dict[str, Any],
    headers: dict[str, str],
    enqueue: bool = True,
) -> tuple[PaymentNotification, bool]:
    """Store a notification once; returns (notification, created). Processing is queued after commit.

    A notification we cannot act on (not about a payment) is stored already marked processed.
    """
    actionable = topic == "payment" and bool(resource_id)
    if topic != "payment":
        skipped = f"ignored: not a payment notification ({topic or 'no topic'})"
    else:
        skipped = "ignored: no payment id (data.id) in the query string"
    try:
        with transaction.atomic():
            notification = PaymentNotification.objects.create(
                provider=provider,
                provider_key=provider_key[:255],
                topic=topic[:64],
                action=action[:64],
                resource_id=resource_id[:128],
                payload=payload,
                headers=headers,
                processed_at=None if actionable else timezone.now(),
                result="" if actionable else skipped,
            )
            if actionable and enqueue:
                transaction.on_commit(lambda: _enqueue(notification.pk), robust=True)
    except IntegrityError:
        existing = PaymentNotification.objects.filter(provider_key=provider_key[:255]).first()
        if existing is None:  # not a duplicate after all: a real integrity problem
            raise
        return existing, False
    return notification, True


def _mercadopago_key(
    *, body: Mapping[str, Any], topic: str, data_id: str, action: str, request_id: str
) -> str:
    # Mercado Pago retries a delivery with the same notification id (body "id"); two different events
    # on one payment (created, updated, refunded) have different ids and must both be processed.
    if body.get("id") not in (None, ""):
        return f"mercadopago:notification:{body['id']}"
    if request_id:
        return f"mercadopago:request:{request_id}"
    return f"mercadopago:{topic}:{data_id}:{action}"


def mercadopago_notification_receive(
    *, query: Mapping[str, str], headers: Mapping[str, str], body: Any
) -> tuple[PaymentNotification, bool]:
    """Verify a Mercado Pago webhook and record it; raises `InvalidSignature` with nothing stored.

    The payment id is taken from the query string (`data.id`), the part Mercado Pago signs.
    """
    data_id = (query.get("data.id") or "").strip()
    request_id = (headers.get("x-request-id") or "").strip()
    check = signature_verify(
        header=headers.get("x-signature"), request_id=request_id or None, data_id=data_id or None
    )
    if not check.valid:
        logger.warning(
            "mercadopago_webhook_rejected", extra={"reason": check.reason, "request_id": request_id}
        )
        raise InvalidSignature()
    body = body if isinstance(body, dict) else {}
    topic = str(body.get("type") or query.get("type") or query.get("topic") or "")
    action = str(body.get("action") or "")
    kept = {name: headers[name] for name in KEPT_HEADERS if headers.get(name)}
    return payment_notification_record(
        provider=ProviderName.MERCADOPAGO,
        provider_key=_mercadopago_key(
            body=body, topic=topic, data_id=data_id, action=action, request_id=request_id
        ),
        topic=topic,
        action=action,
        resource_id=data_id,
        payload=body,
        headers=kept,
    )


def _payment_for(remote: ProviderPayment, *, provider: str) -> Payment | None:
    """Our payment for a provider payment: by the id we put in metadata, else through the order."""
    try:
        order_id = uuid.UUID(remote.external_reference)
    except ValueError:
        return None
    payments = Payment.objects.filter(order_id=order_id, provider=provider)
    if remote.payment_id:
        try:
            found = payments.filter(pk=uuid.UUID(remote.payment_id)).first()
        except ValueError:
            found = None
        if found is not None:
            return found
    if remote.provider_payment_id:
        found = payments.filter(provider_payment_id=remote.provider_payment_id).first()
        if found is not None:
            return found
    return payments.order_by("-created_at").first()


def _finish(notification: PaymentNotification, *, result: str, payment: Payment | None = None) -> str:
    PaymentNotification.objects.filter(pk=notification.pk, processed_at__isnull=True).update(
        processed_at=timezone.now(), result=result[:255], payment=payment
    )
    return result


def payment_notification_process(*, notification_id: int) -> str:
    """Fetch the notified payment from its provider and apply its status; returns what happened.

    Raises `PaymentProviderUnavailable` when the provider cannot be reached (the task retries); the
    notification stays unprocessed until then.
    """
    notification = PaymentNotification.objects.filter(pk=notification_id).first()
    if notification is None:
        raise NotFound("Notification not found.")
    if notification.processed_at is not None:
        return notification.result
    PaymentNotification.objects.filter(pk=notification.pk).update(attempts=F("attempts") + 1)
    try:
        remote = get_provider(notification.provider).fetch_payment(notification.resource_id)
    except ProviderError as exc:
        if exc.status == 404:
            return _finish(notification, result="ignored: payment unknown to the provider")
        PaymentNotification.objects.filter(pk=notification.pk).update(result=f"error: {exc}"[:255])
        raise PaymentProviderUnavailable(details={"notification": notification.pk}) from exc
    payment = _payment_for(remote, provider=notification.provider)
    if payment is None:
        return _finish(
            notification, result=f"ignored: no payment for reference {remote.external_reference!r}"
        )
    with transaction.atomic():
        change = payment_status_apply(
            payment_id=payment.pk,
            status=remote.status,
            raw=remote.raw,
            provider_payment_id=remote.provider_payment_id,
            amount=remote.amount,
            reason=f"{notification.provider} notification {notification.pk}: {remote.status}",
        )
        final = change.payment.status
        if change.note:
            result = change.note
        elif not change.changed:
            result = f"unchanged: {final}"
        elif final != remote.status:  # e.g. approved, then refunded at once because the order was gone
            result = f"applied: {change.previous} → {remote.status} → {final}"
        else:
            result = f"applied: {change.previous} → {final}"
        return _finish(notification, result=result, payment=change.payment)


def payment_notifications_retry(*, older_than: timedelta = timedelta(minutes=2), limit: int = 200) -> int:
    """Process again notifications left unprocessed (provider down, worker lost); returns how many ran."""
    cutoff = timezone.now() - older_than
    ids = list(
        PaymentNotification.objects.filter(processed_at__isnull=True, received_at__lte=cutoff)
        .order_by("received_at")
        .values_list("pk", flat=True)[:limit]
    )
    done = 0
    for notification_id in ids:
        try:
            payment_notification_process(notification_id=notification_id)
            done += 1
        except PaymentProviderUnavailable:
            logger.warning("payment_notification_retry_failed", extra={"notification_id": notification_id})
    return done


def payment_simulate(*, payment: Payment, status: str, actor_id: int | None = None) -> Payment:
    """Development provider only: the buyer approves or rejects a payment.

    Takes the path of a real provider notification — a PaymentNotification is recorded (a repeated
    decision is a duplicate) and processed by `payment_notification_process`. It is processed right
    away rather than queued so the caller sees the outcome in the response.
    """
    if not payment_provider_is_dummy() or payment.provider != ProviderName.DUMMY:
        raise NotFound("Payment not found.")
    if status not in SIMULATED_STATUSES:
        raise ValueError(f"cannot simulate {status!r}")
    resource = simulated_payment_id(str(payment.pk), status)
    notification, _ = payment_notification_record(
        provider=ProviderName.DUMMY,
        provider_key=f"dummy:{resource}",
        topic="payment",
        action="payment.updated",
        resource_id=resource,
        payload={"type": "payment", "action": "payment.updated", "data": {"id": resource}, "by": actor_id},
        headers={},
        enqueue=False,
    )
    payment_notification_process(notification_id=notification.pk)
    payment.refresh_from_db()
    return payment


__all__ = [
    "KEPT_HEADERS",
    "mercadopago_notification_receive",
    "payment_notification_process",
    "payment_notification_record",
    "payment_notifications_retry",
    "payment_simulate",
]
