import json
from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_datetime

from apps.exposure.services.scoring import scoring_run


class Command(BaseCommand):
    help = "Fold new engagement events into popularity and rescore every product (hourly job)."

    def add_arguments(self, parser) -> None:
        parser.add_argument(
            "--at", help="Score as of this UTC time (ISO 8601) instead of now, e.g. a backfill."
        )
        parser.add_argument("--json", action="store_true", help="Print the result as one JSON line.")

    def handle(self, *args, **options) -> None:
        now: datetime | None = None
        if options["at"]:
            now = parse_datetime(options["at"])
            if now is None or now.tzinfo is None:
                raise CommandError("--at needs an ISO 8601 time with a zone, e.g. 2026-11-22T10:00:00Z.")
        result = scoring_run(now=now)
        if options["json"]:
            self.stdout.write(
                json.dumps(
                    {
                        "products_scored": result.products_scored,
                        "products_changed": result.products_changed,
                        "events_processed": result.events_processed,
                        "duration_ms": result.duration_ms,
                        "computed_at": result.computed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
                    }
                )
            )
            return
        self.stdout.write(
            f"Scored {result.products_scored} products ({result.products_changed} changed) from "
            f"{result.events_processed} new events in {result.duration_ms} ms; "
            f"computed_at {result.computed_at:%Y-%m-%dT%H:%M:%SZ}."
        )
