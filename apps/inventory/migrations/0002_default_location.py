"""Every installation starts with one default, sellable location."""

from django.db import migrations


def create_default(apps, schema_editor):
    Location = apps.get_model("inventory", "Location")
    if not Location.objects.filter(is_default=True).exists():
        Location.objects.create(
            code="MAIN", name="Main warehouse", kind="warehouse", is_sellable=True, is_default=True
        )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]
    operations = [migrations.RunPython(create_default, migrations.RunPython.noop)]
