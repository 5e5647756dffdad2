"""Counting a table that only grows (the ledger, stock levels at catalog scale) is the slowest part of
listing it. Unfiltered lists past a threshold use PostgreSQL's row estimate instead of COUNT(*)."""

from functools import cached_property

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet

from shop.api.pagination import PageNumberPagination

EXACT_COUNT_UP_TO = 50_000


def estimated_rows(queryset: QuerySet) -> int | None:
    """The planner's row estimate for the queryset's table (PostgreSQL), None when unknown."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [queryset.model._meta.db_table]
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] >= 0 else None


class EstimatedCountPaginator(Paginator):
    """Exact count for filtered lists and small tables; the table estimate for a large unfiltered one."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and not queryset.query.where:
            estimate = estimated_rows(queryset)
            if estimate is not None and estimate > EXACT_COUNT_UP_TO:
                return estimate
        return super().count


class EstimatedCountPagination(PageNumberPagination):
    django_paginator_class = EstimatedCountPaginator
