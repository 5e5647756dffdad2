import pytest

from apps.inventory.models import Location


@pytest.fixture(autouse=True)
def _default_location(request):
    """The default location comes from a data migration; transactional tests flush it, so restore it."""
    if request.node.get_closest_marker("django_db") is None:
        yield
        return
    request.getfixturevalue("db" if "transactional_db" not in request.fixturenames else "transactional_db")
    if not Location.objects.filter(is_default=True).exists():
        Location.objects.create(
            code="MAIN", name="Main warehouse", kind="warehouse", is_sellable=True, is_default=True
        )
    yield
