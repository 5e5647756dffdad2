"""Benchmark settings (`make bench`): production settings plus what a load test on one machine needs.

The harness (bench/run.py) passes DATABASE_URL / REDIS_URL explicitly; the defaults below only
serve someone running `manage.py` by hand with these settings. Nothing here is for a real deploy.
"""

import os
from datetime import timedelta
from pathlib import Path

_BASE = Path(__file__).resolve().parent.parent.parent

# Production refuses to start without these; a load test on loopback has no secrets to keep.
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-not-secret-0123456789abcdefghijklmnopqrstuvwxyz")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shop_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")
os.environ.setdefault("PAYMENTS_PROVIDER", "dummy")
os.environ.setdefault("PAYMENTS_ALLOW_DUMMY", "1")
# wrk speaks plain HTTP to 127.0.0.1: no TLS redirect.
os.environ.setdefault("DJANGO_SECURE_SSL_REDIRECT", "0")
# Metrics aggregated across the gunicorn workers, as in production (read by prometheus_client).
os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", str(_BASE / "var" / "bench" / "prometheus"))
Path(os.environ["PROMETHEUS_MULTIPROC_DIR"]).mkdir(parents=True, exist_ok=True)

from .production import *  # noqa: E402, F403
from .production import INSTALLED_APPS, SIMPLE_JWT  # noqa: E402

DEBUG = False
SECURE_SSL_REDIRECT = False
INSTALLED_APPS = [*INSTALLED_APPS, "bench.benchapp"]
# The project's URLs plus the bench-only insert baseline (api/v1/_bench/insert).
ROOT_URLCONF = "bench.benchapp.urls"
# A bench run outlives the default 15-minute access token.
SIMPLE_JWT = {**SIMPLE_JWT, "ACCESS_TOKEN_LIFETIME": timedelta(hours=6)}
