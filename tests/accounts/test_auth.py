import pytest

from apps.accounts.models import User
from tests.conftest import auth_client
from tests.factories.accounts import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_register_creates_customer_and_returns_id_and_email(api_client):
    response = api_client.post(
        "/api/v1/auth/register",
        {"email": "Nina@Example.com", "password": "a-Long-pass-phrase-9"},
        format="json",
    )
    assert response.status_code == 201
    user = User.objects.get()
    assert response.json() == {"id": user.id, "email": "nina@example.com"}
    assert not user.is_staff
    assert user.check_password("a-Long-pass-phrase-9")


def test_register_rejects_weak_password_without_creating_user(api_client):
    response = api_client.post(
        "/api/v1/auth/register", {"email": "a@example.com", "password": "123"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()["error"]
    assert body["code"] == "invalid"
    assert "password" in body["details"]
    assert not User.objects.exists()


def test_register_rejects_taken_email_case_insensitively(api_client):
    UserFactory(email="taken@example.com")
    response = api_client.post(
        "/api/v1/auth/register",
        {"email": "TAKEN@example.com", "password": "a-Long-pass-phrase-9"},
        format="json",
    )
    assert response.status_code == 400
    assert "email" in response.json()["error"]["details"]
    assert User.objects.count() == 1


def test_token_pair_then_refresh_then_me(api_client):
    user = UserFactory(email="me@example.com", first_name="Me", last_name="Myself")
    tokens = api_client.post(
        "/api/v1/auth/token", {"email": "me@example.com", "password": PASSWORD}, format="json"
    )
    assert tokens.status_code == 200
    assert set(tokens.json()) == {"access", "refresh"}
    refreshed = api_client.post(
        "/api/v1/auth/token/refresh", {"refresh": tokens.json()["refresh"]}, format="json"
    )
    assert refreshed.status_code == 200
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {refreshed.json()['access']}")
    me = api_client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json() == {
        "id": user.id,
        "email": "me@example.com",
        "first_name": "Me",
        "last_name": "Myself",
        "is_staff": False,
    }


def test_token_with_wrong_password_is_401_in_error_shape(api_client):
    UserFactory(email="me@example.com")
    response = api_client.post(
        "/api/v1/auth/token", {"email": "me@example.com", "password": "nope"}, format="json"
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_me_requires_authentication(api_client):
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_me_with_garbage_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"


def test_staff_me_reports_is_staff(db):
    staff = UserFactory(is_staff=True)
    assert auth_client(staff).get("/api/v1/me").json()["is_staff"] is True
