from django.core.management.base import BaseCommand

from apps.exposure.services.scoring import scoring_run


class Command(BaseCommand):
    help = "Fold new engagement events into popularity and rescore every product (hourly job)."

    def handle(self, *args, **options) -> None:
        result = scoring_run()
        self.stdout.write(
            f"Scored {result.products_scored} products ({result.products_changed} changed) from "
            f"{result.events_processed} new events in {result.duration_ms} ms; "
            f"computed_at {result.computed_at:%Y-%m-%dT%H:%M:%SZ}."
        )
