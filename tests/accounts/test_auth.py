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
    assert response.json()["error"]["message"] == "No active account found with the given credentials"


def test_me_requires_authentication(api_client):
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_me_with_garbage_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "authentication_failed"
    assert response.json()["error"]["message"] == "Given token not valid for any token type"


def test_staff_me_reports_is_staff(db):
    staff = UserFactory(is_staff=True)
    assert auth_client(staff).get("/api/v1/me").json()["is_staff"] is True


@pytest.mark.django_db
def test_token_of_a_deactivated_or_deleted_user_is_401(api_client):
    from rest_framework_simplejwt.tokens import RefreshToken

    from apps.accounts.models import User

    user = User.objects.create_user(email="gone@example.com", password="S3cure-pass!")
    token = str(RefreshToken.for_user(user).access_token)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/me").status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["error"]["code"] == "authentication_failed"
    assert response.json()["error"]["message"] == "User is inactive"

    User.objects.filter(pk=user.pk).delete()
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401 and response.json()["error"]["code"] == "authentication_failed"
    assert response.json()["error"]["message"] == "User not found"


def test_user_lookup_by_a_claim_of_the_wrong_type_finds_no_user(db):
    from shop.api.authentication import user_by_id

    assert user_by_id("not-a-number") is None
    assert user_by_id(10**12) is None
