"""Shared fixtures. The suite runs on PostgreSQL and Redis when DATABASE_URL / REDIS_URL are set."""

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from tests.factories.accounts import StaffFactory, SuperuserFactory, UserFactory


def pytest_collection_modifyitems(config, items):
    if settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set DATABASE_URL); CI runs it there")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _baseline_rows(request):
    """Transactional tests start from a flushed database: restore what migrations seed.

    Migrations create the staff role groups and the default stock location, and post_migrate the
    content types and permissions; `flush` (between transactional tests) removes them, so put them
    back idempotently.
    """
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return
    request.getfixturevalue("transactional_db")
    from django.apps import apps
    from django.contrib.auth.management import create_permissions
    from django.contrib.contenttypes.management import create_contenttypes

    from apps.accounts.roles import roles_sync
    from apps.inventory.models import Location

    for app_config in apps.get_app_configs():  # a flush without post_migrate leaves none
        create_contenttypes(app_config, verbosity=0)
        create_permissions(app_config, verbosity=0)
    roles_sync()
    if not Location.objects.filter(is_default=True).exists():
        Location.objects.get_or_create(
            code="MAIN",
            defaults={"name": "Main warehouse", "kind": "warehouse", "is_sellable": True, "is_default": True},
        )


@pytest.fixture
def is_postgres() -> bool:
    return connection.vendor == "postgresql"


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


def auth_client(user) -> APIClient:
    """An API client sending the user's JWT access token."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    client.user = user
    return client


@pytest.fixture
def customer(db):
    return UserFactory()


@pytest.fixture
def customer_client(customer) -> APIClient:
    return auth_client(customer)


@pytest.fixture
def other_customer_client(db) -> APIClient:
    return auth_client(UserFactory())


@pytest.fixture
def staff_client(db) -> APIClient:
    """Staff member with no role: authenticated back-office user without model permissions."""
    return auth_client(StaffFactory())


@pytest.fixture
def admin_client_api(db) -> APIClient:
    return auth_client(SuperuserFactory())


@pytest.fixture
def role_client(db):
    """`role_client("catalog_manager")` → client of a staff member in that role group."""

    def make(*roles: str) -> APIClient:
        return auth_client(StaffFactory(roles=list(roles)))

    return make


@pytest.fixture
def celery_eager(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    from config.celery_app import app

    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = True


@pytest.fixture
def real_celery_worker(transactional_db, settings):
    """A real Celery worker thread consuming from the Redis broker (needs REDIS_URL)."""
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL); CI runs it there")
    from celery.contrib.testing.worker import start_worker

    from config.celery_app import app

    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with start_worker(
        app, pool="threads", concurrency=2, perform_ping_check=False, shutdown_timeout=10
    ) as worker:
        yield worker
    app.conf.task_always_eager = True
