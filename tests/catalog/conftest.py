import pytest

from apps.inventory.models import Location


@pytest.fixture
def default_location(db) -> Location:
    return Location.objects.get(is_default=True)


@pytest.fixture
def backroom(db) -> Location:
    """A location whose stock is not sold online."""
    return Location.objects.create(code="BACK", name="Back room", kind="store", is_sellable=False)


@pytest.fixture
def manager_client(role_client):
    return role_client("catalog_manager")
