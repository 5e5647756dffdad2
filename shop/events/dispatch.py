"""Publishing into the outbox and dispatching to subscribers."""

import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.utils import timezone

from shop.db import WriteBatch

from .models import HandlerRun, OutboxEvent
from .registry import handler_id, handlers_for

logger = logging.getLogger("shop.events")


def publish(name: str, payload: dict[str, Any], *, batch: WriteBatch | None = None) -> OutboxEvent:
    """Record an event in the caller's transaction; it is dispatched through Celery after commit.

    If the transaction rolls back, the event never existed. If the broker is down at commit,
    the beat sweeper dispatches it later. With `batch` the row joins the caller's pending writes.
    """
    event = OutboxEvent(name=name, payload=payload)
    if batch is None:
        event.save(force_insert=True)
    else:
        batch.insert([event])
    transaction.on_commit(outbox_wake, robust=True)
    return event


# Publishers do not queue one Celery task per event (a publish costs the request ~0.7 ms of CPU): on
# commit they set this key (SET NX) and only the one that set it queues a drain, `OUTBOX_WAKE_DELAY`
# later, so the events of that window go out together. The drain clears the key before it reads the
# pending events, so an event committed after that queues the next drain. The expiry only matters
# when a queued drain is lost; the beat sweeper is the backstop either way.
_WAKE_KEY = "outbox:wake"
_WAKE_TTL_SECONDS = 60


def outbox_wake() -> None:
    """Queue a drain of the pending events unless one is queued already (called on commit)."""
    if not cache.add(_WAKE_KEY, 1, timeout=_WAKE_TTL_SECONDS):
        return
    from .tasks import outbox_drain_task

    try:
        outbox_drain_task.apply_async(countdown=settings.OUTBOX_WAKE_DELAY.total_seconds())
    except Exception:
        cache.delete(_WAKE_KEY)  # the next commit tries again
        raise


def outbox_drain(*, limit: int = 500) -> int:
    """Dispatch the events never tried yet, oldest first; returns how many were delivered.

    Events that failed before (attempts > 0) are left to the sweeper's pace, so a failing subscriber is
    not retried on every wake. A full batch queues the next drain.
    """
    cache.delete(_WAKE_KEY)
    pending = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, attempts=0)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    delivered = sum(1 for pk in pending if outbox_dispatch(event_id=pk))
    if len(pending) == limit:
        outbox_wake()
    return delivered


def _run_handler(event: OutboxEvent, handler: Any) -> bool:
    """Run one handler once: its HandlerRun row commits together with the handler's own writes."""
    hid = handler_id(handler)
    try:
        with transaction.atomic():
            HandlerRun.objects.create(event=event, handler=hid)
            handler({"id": str(event.id), "name": event.name, **event.payload})
    except IntegrityError:
        # Either another dispatcher already ran it, or the handler itself hit an integrity error.
        if HandlerRun.objects.filter(event=event, handler=hid).exists():
            return True
        logger.exception("event_handler_failed", extra={"event": event.name, "handler": hid})
        return False
    except Exception as exc:  # a failing subscriber must not block the others
        logger.exception("event_handler_failed", extra={"event": event.name, "handler": hid})
        OutboxEvent.objects.filter(pk=event.pk).update(last_error=f"{hid}: {exc!r}"[:2000])
        return False
    return True


def outbox_dispatch(*, event_id: uuid.UUID | str) -> bool:
    """Deliver one event to each subscriber not yet run; mark it dispatched when all succeeded."""
    event = OutboxEvent.objects.filter(pk=event_id).first()
    if event is None or event.dispatched_at is not None:
        return event is not None
    OutboxEvent.objects.filter(pk=event.pk).update(attempts=event.attempts + 1)
    results = [_run_handler(event, handler) for handler in handlers_for(event.name)]  # run every one
    ok = all(results)
    if ok:
        OutboxEvent.objects.filter(pk=event.pk, dispatched_at__isnull=True).update(
            dispatched_at=timezone.now()
        )
    return ok


def outbox_sweep(*, limit: int = 500) -> int:
    """Dispatch events left undispatched (broker down, worker killed); returns how many ran."""
    cutoff = timezone.now() - settings.OUTBOX_SWEEP_AFTER
    pending = list(
        OutboxEvent.objects.filter(dispatched_at__isnull=True, created_at__lte=cutoff)
        .order_by("created_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in pending if outbox_dispatch(event_id=pk))
