"""Rebate jobs (scheduled in CELERY_BEAT_SCHEDULE: `rebates-accrue-monthly`)."""

from datetime import date

from celery import shared_task

from .services import rebate_accruals_record


@shared_task(name="apps.rebates.tasks.rebate_accruals_record_task")
def rebate_accruals_record_task(month: str | None = None) -> int:
    """Record last month's rebate accruals (or `month`, ISO date, any day of it); returns rows written."""
    return len(rebate_accruals_record(month=date.fromisoformat(month) if month else None))
