"""Recompute every product's full-text search vector (after bulk loads or a search config change)."""

import sys
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection
from tqdm import tqdm

from apps.catalog.models import Product
from apps.catalog.services import product_search_reindex_all


class Command(BaseCommand):
    help = "Rebuild Product.search_vector in id-range batches (PostgreSQL; a no-op elsewhere)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--no-progress", action="store_true")

    def handle(self, *args: Any, **opts: Any) -> None:
        if connection.vendor != "postgresql":
            self.stdout.write("Not PostgreSQL: search uses icontains, nothing to index.")
            return
        bar = tqdm(
            total=Product.objects.count(), unit="product", disable=opts["no_progress"], file=sys.stderr
        )
        done = product_search_reindex_all(batch_size=opts["batch_size"], progress=bar.update)
        bar.close()
        self.stdout.write(f"Reindexed {done} products.")
