"""Test settings: the same wiring as production, isolated per pytest-xdist worker."""

import os

from .base import *  # noqa: F403
from .base import CACHES, CHANNEL_LAYERS, REDIS_URL, env

# Each xdist worker gets its own Redis database and key prefixes, so FLUSHDB in one worker's
# cache.clear() never touches another's keys.
_worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
_worker_index = int(_worker[2:] or 0) if _worker.startswith("gw") else 0
TEST_REDIS_URL = ""
if REDIS_URL:
    base = REDIS_URL.rsplit("/", 1)[0] if REDIS_URL.count("/") > 2 else REDIS_URL.rstrip("/")
    # TEST_REDIS_DB_BASE lets several suites share one Redis server without flushing each other.
    TEST_REDIS_URL = f"{base}/{env.int('TEST_REDIS_DB_BASE', default=1) + _worker_index}"
    CACHES["default"]["LOCATION"] = TEST_REDIS_URL
    CACHES["default"]["KEY_PREFIX"] = f"test-{_worker}"
    CHANNEL_LAYERS["default"]["CONFIG"]["hosts"] = [TEST_REDIS_URL]
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = f"test-{_worker}"
    CELERY_BROKER_URL = TEST_REDIS_URL
    CELERY_RESULT_BACKEND = TEST_REDIS_URL

if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # Embedded mode: a shared-cache in-memory database per xdist worker (pytest-django does not
    # recognise django-prometheus's SQLite engine when it names per-worker test databases).
    DATABASES["default"]["TEST"] = {"NAME": ":memory:"}  # noqa: F405

# Tasks run inline in most tests; tests that prove behaviour through a real worker start one
# (tests/conftest.py: `celery_worker`) and switch this off.
CELERY_TASK_ALWAYS_EAGER = True
# Transactional tests restore what migrations seed through a fixture (tests/conftest.py), so the
# test database is never serialized: serialized rollback, mixed with plain transactional tests,
# re-inserts content types that post_migrate has already recreated.
TEST_NON_SERIALIZED_APPS = list(INSTALLED_APPS)  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOG_JSON = env.bool("LOG_JSON", default=True)
LOG_LEVEL = "WARNING"
IDEMPOTENCY_WAIT_SECONDS = 5.0
MEDIA_ROOT = str(BASE_DIR / "var" / f"test-media-{_worker}")  # noqa: F405
PAYMENTS_PROVIDER = "dummy"
MERCADOPAGO_ACCESS_TOKEN = "TEST-access-token"
MERCADOPAGO_WEBHOOK_SECRET = "test-webhook-secret"
