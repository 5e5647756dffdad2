from celery import shared_task

from .dispatch import outbox_drain, outbox_sweep


# ignore_result: nobody reads the outcome (the outbox rows record it), and a stored result costs the
# publisher a result-channel subscription per call and the worker a Redis write.
@shared_task(acks_late=True, ignore_result=True)
def outbox_drain_task() -> int:
    """Deliver the outbox events published since the last drain (queued by `outbox_wake`)."""
    return outbox_drain()


@shared_task
def outbox_sweep_task() -> int:
    """Deliver outbox events that were never dispatched."""
    return outbox_sweep()
