"""Compare every stock level with the sum of its ledger movements; `--fix` sets levels to the ledger."""

import sys
from collections.abc import Iterable
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from apps.inventory.services import Drift, stock_reconcile

HEADER = ("level", "sku", "location", "on_hand", "ledger_on_hand", "reserved", "ledger_reserved", "status")


def _table(drifts: list[Drift]) -> list[str]:
    rows = [HEADER] + [
        (
            str(d.level_id or "-"),
            d.sku,
            d.location,
            str(d.on_hand),
            str(d.ledger_on_hand),
            str(d.reserved),
            str(d.ledger_reserved),
            d.status,
        )
        for d in drifts
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    return ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]


class Command(BaseCommand):
    help = (
        "Check each StockLevel against the sum of its StockMovement deltas (the ledger is the source "
        "of truth). Exits 1 when drift is found without --fix, 2 when --fix cannot repair a level."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--fix", action="store_true", help="Set drifted levels to their ledger totals.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args: Any, fix: bool = False, no_progress: bool = False, **options: Any) -> None:
        def progress(items: Iterable, total: int) -> Iterable:
            return tqdm(
                items, total=total, desc="stock levels", unit="level", file=sys.stderr, disable=no_progress
            )

        drifts = stock_reconcile(fix=fix, progress=progress)
        if not drifts:
            self.stdout.write(self.style.SUCCESS("No drift: every stock level matches its ledger."))
            return
        for line in _table(drifts):
            self.stdout.write(line)
        unfixable = [d for d in drifts if d.status == "unfixable"]
        if not fix:
            raise CommandError(
                f"{len(drifts)} stock level(s) differ from the ledger; run with --fix.", returncode=1
            )
        if unfixable:
            raise CommandError(
                f"{len(unfixable)} level(s) cannot be fixed: their ledger totals break a stock constraint.",
                returncode=2,
            )
        self.stdout.write(self.style.SUCCESS(f"Fixed {len(drifts)} stock level(s) to match the ledger."))
