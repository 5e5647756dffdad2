"""Catalog reads."""

from django.db import connection

from .models import Category


def category_subtree_ids(*, category_id: int) -> list[int]:
    """Ids of a category and all its descendants (one recursive CTE, indexed on parent_id)."""
    table = Category._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH RECURSIVE subtree(id) AS (
                SELECT id FROM {table} WHERE id = %s
                UNION ALL
                SELECT c.id FROM {table} c JOIN subtree s ON c.parent_id = s.id
            )
            SELECT id FROM subtree
            """,
            [category_id],
        )
        return [row[0] for row in cursor.fetchall()]
