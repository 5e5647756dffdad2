"""Inventory background jobs (scheduled in CELERY_BEAT_SCHEDULE)."""

from celery import shared_task

from .services import reservations_release_expired


@shared_task
def reservations_release_expired_task() -> int:
    """Release reservations whose expiry has passed; returns how many references were released."""
    return reservations_release_expired()
