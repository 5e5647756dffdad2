"""Liveness (/health, no dependencies) and readiness (/health/ready: database, cache, broker)."""

import time
import uuid
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def liveness(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def check_database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def check_cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return the value just written")
    cache.delete(key)


def check_broker() -> str | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return "inline"  # no broker in embedded mode: tasks run in-process
    from celery import current_app

    with current_app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=1, timeout=2)
    return None


CHECKS: dict[str, Callable[[], Any]] = {
    "database": check_database,
    "cache": check_cache,
    "broker": check_broker,
}


def _run(check: Callable[[], Any]) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        note = check()
    except Exception as exc:  # any failure means "not ready"; say which and why
        return {
            "status": "down",
            "error": exc.__class__.__name__,
            "latency_ms": round((time.perf_counter() - started) * 1000, 2),
        }
    result: dict[str, Any] = {"status": "up", "latency_ms": round((time.perf_counter() - started) * 1000, 2)}
    if note:
        result["mode"] = note
    return result


@require_GET
def readiness(request: HttpRequest) -> JsonResponse:
    checks = {name: _run(check) for name, check in CHECKS.items()}
    ready = all(c["status"] == "up" for c in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )
