from celery import shared_task

from .idempotency import idempotency_keys_purge


@shared_task
def idempotency_cleanup_task() -> int:
    """Purge idempotency keys older than their retention."""
    return idempotency_keys_purge()
