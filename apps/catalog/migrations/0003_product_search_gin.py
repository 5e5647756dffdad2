"""GIN index on Product.search_vector — PostgreSQL only.

The project also runs on SQLite (embedded mode), where a GIN index does not exist; the index is
created with raw SQL only when the connection is PostgreSQL, so the migration graph is the same
on both back ends.
"""

from django.db import migrations

INDEX = "catalog_product_search_gin"


def create_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON catalog_product USING gin (search_vector)"
        )


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_product_search")]
    operations = [migrations.RunPython(create_index, drop_index, elidable=False)]
