"""Import a large catalog (or stock count) CSV in batches with a progress bar and a row error report."""

import csv
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from apps.catalog.services.importing import CATALOG_COLUMNS, STOCK_COLUMNS, catalog_import, stock_import


class Command(BaseCommand):
    help = (
        "Import products+variants (columns: " + ", ".join(CATALOG_COLUMNS) + ") or, with --kind stock, "
        "counted stock (columns: " + ", ".join(STOCK_COLUMNS) + ") through the inventory services."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("csv", help="CSV file with a header row (UTF-8, comma separated).")
        parser.add_argument("--kind", choices=["catalog", "stock"], default="catalog")
        parser.add_argument("--dry-run", action="store_true", help="Validate everything, write nothing.")
        parser.add_argument("--batch-size", type=int, default=1000)
        parser.add_argument(
            "--errors", help="Write the row error report to this CSV file (line,column,message)."
        )
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        path = Path(opts["csv"])
        if not path.exists():
            raise CommandError(f"{path} does not exist.")
        with path.open(newline="", encoding="utf-8-sig") as fh:
            total = max(sum(1 for _ in fh) - 1, 0)
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            required = (
                {"sku", "product", "category", "price"} if opts["kind"] == "catalog" else {"sku", "on_hand"}
            )
            missing = required - set(reader.fieldnames or [])
            if missing:
                raise CommandError(f"Missing columns: {', '.join(sorted(missing))}.")
            bar = tqdm(total=total, unit="row", disable=opts["no_progress"], file=sys.stderr)
            run = catalog_import if opts["kind"] == "catalog" else stock_import
            report = run(
                rows=reader, dry_run=opts["dry_run"], batch_size=opts["batch_size"], progress=bar.update
            )
            bar.close()

        rows = [
            (error.line, column, message)
            for error in sorted(report.errors, key=lambda e: e.line)
            for column, messages in error.errors.items()
            for message in (messages if isinstance(messages, list) else [messages])
        ]
        for line, column, message in rows[:50]:
            self.stderr.write(f"line {line}: {column}: {message}")
        if len(rows) > 50:
            self.stderr.write(f"… and {len(rows) - 50} more errors")
        if opts["errors"]:
            with open(opts["errors"], "w", newline="", encoding="utf-8") as out:
                writer = csv.writer(out)
                writer.writerow(["line", "column", "message"])
                writer.writerows(rows)
        prefix = "DRY RUN (nothing written): " if opts["dry_run"] else ""
        self.stdout.write(
            f"{prefix}{report.created} created, {report.updated} updated, {report.skipped} unchanged, "
            f"{len(report.errors)} rows with errors."
        )
        if report.errors:
            raise CommandError(f"{len(report.errors)} row(s) rejected; the other rows were imported.")
