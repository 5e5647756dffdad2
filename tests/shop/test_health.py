"""Liveness, readiness (database, cache, broker) and the constant ping endpoint."""

import socket

import pytest
from django.db import connections


def _unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- /health -------------------------------------------------------------------------------------------


def test_liveness_answers_without_database_access(api_client):
    # No `db` fixture: pytest-django fails any query, so a 200 proves /health needs no database.
    response = api_client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_liveness_runs_no_query(db, api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get("/health")

    assert response.status_code == 200


def test_liveness_is_get_only(api_client):
    assert api_client.post("/health").status_code == 405


# --- /health/ready -------------------------------------------------------------------------------------


def test_readiness_reports_each_dependency_with_its_latency(db, api_client):
    response = api_client.get("/health/ready")

    body = response.json()
    assert response.status_code == 200
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "cache", "broker"}
    for name, check in body["checks"].items():
        assert check["status"] == "up", name
        assert isinstance(check["latency_ms"], int | float), name
        assert check["latency_ms"] >= 0, name


def test_readiness_checks_the_real_broker_when_tasks_are_not_inline(db, api_client, settings):
    if not settings.REDIS_URL:
        pytest.skip("needs Redis (REDIS_URL); CI runs it there")
    settings.CELERY_TASK_ALWAYS_EAGER = False

    response = api_client.get("/health/ready")

    broker = response.json()["checks"]["broker"]
    assert response.status_code == 200
    assert broker["status"] == "up"
    assert "mode" not in broker


def test_readiness_says_tasks_run_inline_in_embedded_mode(db, api_client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True

    broker = api_client.get("/health/ready").json()["checks"]["broker"]

    assert broker == {"status": "up", "latency_ms": broker["latency_ms"], "mode": "inline"}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_readiness_is_503_when_the_database_is_unreachable(api_client):
    conn = connections["default"]
    real_port = conn.settings_dict["PORT"]
    conn.close()
    conn.settings_dict["PORT"] = str(_unused_port())
    try:
        response = api_client.get("/health/ready")
    finally:
        conn.close()
        conn.settings_dict["PORT"] = real_port

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "down"
    assert body["checks"]["database"]["error"] == "OperationalError"
    assert body["checks"]["database"]["latency_ms"] >= 0
    assert body["checks"]["cache"]["status"] == "up"
    assert body["checks"]["broker"]["status"] == "up"
    # The database is back for everyone after the outage.
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_readiness_is_503_when_the_cache_is_down(db, api_client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{_unused_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
        }
    }

    response = api_client.get("/health/ready")

    body = response.json()
    assert response.status_code == 503
    assert body["status"] == "unavailable"
    assert body["checks"]["cache"]["status"] == "down"
    assert body["checks"]["cache"]["error"]
    assert body["checks"]["database"]["status"] == "up"


def test_readiness_is_503_when_the_broker_is_down(db, api_client, settings, monkeypatch):
    from config.celery_app import app

    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(app.conf, "broker_url", f"redis://127.0.0.1:{_unused_port()}/0")

    response = api_client.get("/health/ready")

    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["broker"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "up"
    assert body["checks"]["cache"]["status"] == "up"


def test_readiness_errors_name_the_failure_without_details(db, api_client, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django_prometheus.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://:secret-password@127.0.0.1:{_unused_port()}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.5},
        }
    }

    response = api_client.get("/health/ready")

    assert response.status_code == 503
    assert "secret-password" not in response.content.decode()


# --- /api/v1/ping --------------------------------------------------------------------------------------


def test_ping_is_a_constant_answer_without_database(api_client):
    response = api_client.get("/api/v1/ping")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ping_ignores_credentials_even_bad_ones(db, api_client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = api_client.get("/api/v1/ping", HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ping_rejects_other_methods_with_the_error_shape(api_client):
    response = api_client.post("/api/v1/ping", {})

    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
