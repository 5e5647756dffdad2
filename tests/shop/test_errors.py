"""Every error class renders the API.md shape: {"error": {"code", "message", "details"}}."""

import pytest

from tests.conftest import auth_client
from tests.factories.accounts import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.shop.kernel_views")]


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_validation_error_is_400_invalid_with_details_by_field(api_client):
    response = api_client.post("/validate", {"quantity": 0}, format="json")
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "invalid"
    assert set(error["details"]) == {"quantity", "name"}


def test_malformed_json_is_400_invalid(api_client):
    response = api_client.post("/validate", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "invalid"


def test_unsupported_media_type_is_415(api_client):
    response = api_client.post("/validate", data="quantity=1", content_type="text/plain")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_application_error_keeps_code_and_details(api_client):
    response = api_client.get("/stock")
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "insufficient_stock"
    assert error["details"] == {"lines": [{"variant": 1, "requested": 3, "available": 1}]}


def test_unauthenticated_is_401(api_client):
    response = api_client.get("/staff-only")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_forbidden_is_403(db):
    response = auth_client(UserFactory()).get("/staff-only")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_django_permission_denied_is_403(api_client):
    response = api_client.get("/djangoforbidden")
    assert response.status_code == 403
    assert error_of(response)["code"] == "permission_denied"


def test_http404_raised_in_view_is_404_not_found(api_client):
    response = api_client.get("/django404")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_unknown_url_is_404_in_error_shape(api_client):
    response = api_client.get("/no/such/path")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_method_not_allowed_is_405(api_client):
    response = api_client.delete("/get-only")
    assert response.status_code == 405
    assert error_of(response)["code"] == "method_not_allowed"


def test_throttled_is_429_with_retry_after(api_client):
    response = api_client.get("/throttled")
    assert response.status_code == 429
    assert error_of(response)["code"] == "rate_limited"
    assert response["Retry-After"] == "13"


def test_unhandled_error_is_500_with_request_id_and_no_traceback(api_client):
    response = api_client.get("/boom", HTTP_X_REQUEST_ID="req-123")
    assert response.status_code == 500
    error = error_of(response)
    assert error["code"] == "internal_error"
    assert error["details"] == {"request_id": "req-123"}
    assert "secret internal detail" not in response.content.decode()
    assert "Traceback" not in response.content.decode()


def test_body_larger_than_limit_is_413(api_client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api_client.post("/validate", {"name": "x" * 500, "quantity": 1}, format="json")
    assert response.status_code == 413
    assert error_of(response)["code"] == "payload_too_large"
