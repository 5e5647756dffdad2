"""`manage.py engagement_rollup [--purge]`: run the rollup now (what the hourly beat job does)."""

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from apps.engagement.services import engagement_purge, engagement_rollup


class Command(BaseCommand):
    help = "Fold newly ingested events into the engagement aggregates; --purge also applies retention."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--purge", action="store_true", help="Then delete raw events past retention.")

    def handle(self, *args: Any, **options: Any) -> None:
        result = engagement_rollup()
        self.stdout.write(
            f"Rolled up {result.events} events (hourly rows {result.hourly_rows}, daily rows "
            f"{result.daily_rows}, customer rows {result.customer_rows}); watermark {result.watermark}."
        )
        if options["purge"]:
            self.stdout.write(f"Purged {engagement_purge()} raw events past retention.")
