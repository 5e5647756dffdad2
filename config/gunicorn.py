"""gunicorn configuration for the HTTP tier (WSGI): `gunicorn config.wsgi -c config/gunicorn.py`.

Sync workers: on two cores two workers serve as many requests/s as four (docs/operations.md).
Prometheus metrics are aggregated across workers through PROMETHEUS_MULTIPROC_DIR.
"""

import os
import shutil
import tempfile
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
# Recycling workers guards against slow leaks; the jitter keeps them from restarting all at once.
# Off by default (0): at thousands of requests/s a low limit restarts workers every few seconds.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
# Django's AccessLogMiddleware writes one JSON line per request; gunicorn's own access log would repeat it.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Workers inherit the master's environment, so setting it here (before any worker imports
# prometheus_client) makes /metrics add up every worker even when the deploy forgot the variable.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="shop-prometheus-")
_multiproc_dir = os.environ["PROMETHEUS_MULTIPROC_DIR"]


def on_starting(server: object) -> None:
    """Start with an empty metrics directory: files of a previous run's workers would count twice."""
    path = Path(_multiproc_dir)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)


def child_exit(server: object, worker: object) -> None:
    """Drop a dead worker's live gauges from the aggregate."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
