from celery import shared_task

from .dispatch import outbox_dispatch, outbox_sweep


@shared_task(acks_late=True)
def outbox_dispatch_task(event_id: str) -> bool:
    """Deliver one outbox event to its subscribers."""
    return outbox_dispatch(event_id=event_id)


@shared_task
def outbox_sweep_task() -> int:
    """Deliver outbox events that were never dispatched."""
    return outbox_sweep()
