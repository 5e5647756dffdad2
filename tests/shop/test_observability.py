"""Request ids, the JSON access log (no personal data in it) and Prometheus metrics."""

import hashlib
import hmac
import json
import logging
import re

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from shop.observability.logging import formatter_factory, hash_user_id
from tests.factories.accounts import UserFactory

MINTED = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def access_log(caplog):
    """The access-log lines of the requests made in the test, rendered by the production JSON formatter."""
    caplog.set_level(logging.INFO, logger="shop.access")
    formatter = formatter_factory()

    def lines() -> list[dict]:
        records = [r for r in caplog.records if r.name == "shop.access"]
        return [json.loads(formatter.format(r)) for r in records]

    lines.raw = lambda: "\n".join(formatter.format(r) for r in caplog.records if r.name == "shop.access")
    return lines


# --- Request id ----------------------------------------------------------------------------------------


def test_well_formed_incoming_request_id_is_echoed(api_client):
    response = api_client.get("/api/v1/ping", HTTP_X_REQUEST_ID="lb-7f3a.2_x")

    assert response.status_code == 200
    assert response["X-Request-ID"] == "lb-7f3a.2_x"


def test_request_id_is_minted_when_absent(api_client):
    first = api_client.get("/api/v1/ping")
    second = api_client.get("/api/v1/ping")

    assert MINTED.match(first["X-Request-ID"])
    assert MINTED.match(second["X-Request-ID"])
    assert first["X-Request-ID"] != second["X-Request-ID"]


@pytest.mark.parametrize(
    "incoming",
    ["has spaces", "semi;colon", "x" * 129, "<script>", 'quote"d', ""],
    ids=["spaces", "semicolon", "too-long", "markup", "quote", "empty"],
)
def test_malformed_request_id_is_replaced_by_a_minted_one(api_client, incoming):
    response = api_client.get("/api/v1/ping", HTTP_X_REQUEST_ID=incoming)

    assert MINTED.match(response["X-Request-ID"])
    assert response["X-Request-ID"] != incoming


def test_request_id_is_on_error_responses_too(api_client):
    response = api_client.get("/api/v1/me", HTTP_X_REQUEST_ID="trace-401")

    assert response.status_code == 401
    assert response["X-Request-ID"] == "trace-401"


# --- Access log ----------------------------------------------------------------------------------------


def test_access_log_is_one_json_line_with_request_facts(api_client, access_log):
    response = api_client.get("/api/v1/ping?page=2", HTTP_X_REQUEST_ID="req-access-1")

    [line] = access_log()
    assert response.status_code == 200
    assert line["event"] == "request"
    assert line["request_id"] == "req-access-1"
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/ping"  # no query string: it may carry tokens or e-mails
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)
    assert 0 <= line["duration_ms"] < 10_000
    assert line["user"] is None
    assert line["level"] == "info"
    assert line["logger"] == "shop.access"
    assert line["timestamp"].endswith("Z")


def test_access_log_hashes_the_jwt_user_with_a_keyed_hmac_and_leaks_neither_email_nor_token(
    db, api_client, access_log, settings
):
    settings.LOG_HASH_KEY = "log-hash-key-for-this-test"
    user = UserFactory(email="private.person@example.com")
    token = str(RefreshToken.for_user(user).access_token)

    response = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")

    [line] = access_log()
    expected = hmac.new(b"log-hash-key-for-this-test", str(user.pk).encode(), hashlib.sha256).hexdigest()[:16]
    assert response.status_code == 200
    assert line["status"] == 200
    assert line["user"] == expected
    assert line["user"] == hash_user_id(user.pk)
    assert line["user"] != str(user.pk)
    raw = access_log.raw()
    assert "private.person@example.com" not in raw
    assert "private.person" not in raw
    assert token not in raw
    assert token.split(".")[1] not in raw  # not even the JWT payload segment


def test_user_hash_depends_on_the_key(db, settings):
    user = UserFactory()
    settings.LOG_HASH_KEY = "key-one"
    first = hash_user_id(user.pk)
    settings.LOG_HASH_KEY = "key-two"
    second = hash_user_id(user.pk)

    assert first != second
    assert len(first) == len(second) == 16


def test_access_log_hashes_the_session_user_of_a_non_drf_page(admin_client, access_log):
    response = admin_client.get("/admin/")

    [line] = access_log()
    assert response.status_code == 200
    assert line["path"] == "/admin/"
    assert line["user"] == hash_user_id(response.wsgi_request.user.pk)
    assert response.wsgi_request.user.email not in access_log.raw()


def test_access_log_records_failed_requests_with_their_status(api_client, access_log):
    api_client.post("/api/v1/ping", {}, HTTP_X_REQUEST_ID="req-405")
    api_client.get("/api/v1/no-such-endpoint", HTTP_X_REQUEST_ID="req-404")

    lines = {line["request_id"]: line for line in access_log()}
    assert lines["req-405"]["status"] == 405
    assert lines["req-405"]["method"] == "POST"
    assert lines["req-404"]["status"] == 404


def test_log_lines_emitted_during_a_request_carry_its_request_id(api_client, caplog, monkeypatch):
    from shop.api import views
    from shop.observability.logging import get_logger

    caplog.set_level(logging.INFO, logger="shop.test")
    original = views.PingView.get

    def get_with_log(self, request):
        get_logger("shop.test").info("inside the view")
        return original(self, request)

    monkeypatch.setattr(views.PingView, "get", get_with_log)
    api_client.get("/api/v1/ping", HTTP_X_REQUEST_ID="req-inner")

    formatter = formatter_factory()
    [line] = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "shop.test"]
    assert line["event"] == "inside the view"
    assert line["request_id"] == "req-inner"


# --- Metrics -------------------------------------------------------------------------------------------


def _metric(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(f"{name}{{{wanted}}} ") or (not labels and line.startswith(f"{name} ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_metrics_expose_http_request_counters_that_grow_with_requests(api_client):
    before = api_client.get("/metrics").content.decode()

    for _ in range(3):
        api_client.get("/api/v1/ping")
    response = api_client.get("/metrics")

    text = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    assert "django_http_requests_total_by_method_total" in text
    grown = _metric(text, "django_http_requests_total_by_method_total", method="GET") - _metric(
        before, "django_http_requests_total_by_method_total", method="GET"
    )
    assert grown == 4  # three pings and the first /metrics request
    assert "django_http_requests_latency_seconds_by_view_method_bucket" in text


def test_metrics_count_responses_by_status(api_client):
    before = api_client.get("/metrics").content.decode()

    api_client.get("/api/v1/no-such-endpoint")
    text = api_client.get("/metrics").content.decode()

    name = "django_http_responses_total_by_status_total"
    assert _metric(text, name, status="404") - _metric(before, name, status="404") == 1


def _sum_metric(text: str, name: str) -> float:
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + "{"))


def test_metrics_count_database_queries(db, api_client, customer_client):
    before = api_client.get("/metrics").content.decode()

    customer_client.get("/api/v1/me")  # loads the user: at least one query
    text = api_client.get("/metrics").content.decode()

    assert _sum_metric(text, "django_db_execute_total") - _sum_metric(before, "django_db_execute_total") >= 1
