"""Exposure jobs (Celery beat: `scoring-hourly`)."""

from dataclasses import asdict

from celery import shared_task

from .services.scoring import scoring_run


@shared_task
def scoring_run_task() -> dict:
    """Run the hourly scoring job and refresh the CTR-by-position gauge."""
    from .services.mix import mix_served_flush
    from .services.reports import ctr_gauges_refresh

    mix_served_flush()
    result = scoring_run()
    ctr_gauges_refresh()
    data = asdict(result)
    data["computed_at"] = result.computed_at.isoformat()
    return data
