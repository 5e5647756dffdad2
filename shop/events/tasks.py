from celery import shared_task

from .dispatch import outbox_dispatch, outbox_sweep


# ignore_result: nobody reads the outcome (the outbox row records it), and a stored result costs the
# publisher a result-channel subscription per call and the worker a Redis write per event.
@shared_task(acks_late=True, ignore_result=True)
def outbox_dispatch_task(event_id: str) -> bool:
    """Deliver one outbox event to its subscribers."""
    return outbox_dispatch(event_id=event_id)


@shared_task
def outbox_sweep_task() -> int:
    """Deliver outbox events that were never dispatched."""
    return outbox_sweep()
