"""Development provider: POST /payments/{id}/simulate and the hosted checkout page."""

from urllib.parse import parse_qs, urlparse

import pytest

from apps.payments.models import Payment, PaymentNotification
from apps.payments.providers.dummy import checkout_token_make
from tests.conftest import auth_client
from tests.factories.accounts import StaffFactory

from .conftest import committed, events, movements, place, reservation_statuses, stock


@pytest.fixture
def dummy_order(db, customer, variant):
    order, info = place(customer, (variant, 3))
    return order, Payment.objects.get(pk=info.id)


def simulate(client, payment, status="approved", **extra):
    with committed():
        return client.post(
            f"/api/v1/payments/{payment.id}/simulate", {"status": status}, format="json", **extra
        )


@pytest.mark.django_db
def test_order_placed_with_the_dummy_provider_gets_a_local_checkout_url(settings, dummy_order):
    order, payment = dummy_order
    url = urlparse(payment.checkout_url)
    assert f"{url.scheme}://{url.netloc}" == settings.SHOP_PUBLIC_URL
    assert url.path == f"/api/v1/payments/{payment.id}/checkout"
    assert parse_qs(url.query)["token"]
    assert (payment.provider, payment.status, payment.amount) == ("dummy", "pending", order.total)


@pytest.mark.django_db
def test_simulated_approval_pays_the_order_and_sells_the_stock(customer_client, dummy_order, variant):
    order, payment = dummy_order
    response = simulate(customer_client, payment, "approved")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {
        "id",
        "order",
        "provider",
        "status",
        "status_reason",
        "amount",
        "currency",
        "checkout_url",
        "created_at",
        "updated_at",
    }
    assert (body["id"], body["status"], body["order"], body["amount"]) == (
        str(payment.id),
        "approved",
        str(order.id),
        str(order.total),
    )
    order.refresh_from_db()
    assert order.status == "paid"
    assert movements(order) == [("reserve", 0, 3), ("sale", -3, -3)]
    assert stock(variant) == (7, 0)
    assert events("order_paid", order) == 1
    notification = PaymentNotification.objects.get()
    assert (notification.provider, notification.provider_key, notification.result) == (
        "dummy",
        f"dummy:dummy-{payment.id}-approved",
        "applied: pending → approved",
    )


@pytest.mark.django_db
def test_simulated_rejection_cancels_the_order_and_releases_the_stock(customer_client, dummy_order, variant):
    order, payment = dummy_order
    response = simulate(customer_client, payment, "rejected")

    assert (response.status_code, response.json()["status"]) == (200, "rejected")
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert movements(order) == [("reserve", 0, 3), ("release", 0, -3)]
    assert reservation_statuses(order) == ["released"]
    assert stock(variant) == (10, 0)
    assert events("order_cancelled", order) == 1


@pytest.mark.django_db
def test_repeating_a_simulation_is_a_duplicate(customer_client, dummy_order):
    order, payment = dummy_order
    simulate(customer_client, payment, "approved")
    response = simulate(customer_client, payment, "approved")
    assert (response.status_code, response.json()["status"]) == (200, "approved")
    assert PaymentNotification.objects.count() == 1
    assert [m[0] for m in movements(order)] == ["reserve", "sale"]


@pytest.mark.django_db
def test_rejection_after_approval_changes_nothing(customer_client, dummy_order):
    order, payment = dummy_order
    simulate(customer_client, payment, "approved")
    response = simulate(customer_client, payment, "rejected")
    assert response.json()["status"] == "approved"
    order.refresh_from_db()
    assert order.status == "paid"
    assert PaymentNotification.objects.get(provider_key__endswith="rejected").result == (
        f"ignored: rejected for provider payment dummy-{payment.id}-rejected, not ours"
    )


@pytest.mark.django_db
def test_staff_may_simulate_for_any_order(dummy_order):
    order, payment = dummy_order
    response = simulate(auth_client(StaffFactory()), payment, "approved")
    assert (response.status_code, response.json()["status"]) == (200, "approved")


@pytest.mark.django_db
def test_another_customer_gets_404_and_nothing_happens(other_customer_client, dummy_order):
    order, payment = dummy_order
    response = simulate(other_customer_client, payment, "approved")
    assert (response.status_code, response.json()["error"]["code"]) == (404, "not_found")
    assert PaymentNotification.objects.count() == 0
    order.refresh_from_db()
    assert order.status == "pending_payment"


@pytest.mark.django_db
def test_anonymous_caller_is_401(api_client, dummy_order):
    order, payment = dummy_order
    response = simulate(api_client, payment, "approved")
    assert (response.status_code, response.json()["error"]["code"]) == (401, "not_authenticated")
    assert PaymentNotification.objects.count() == 0


@pytest.mark.django_db
def test_simulate_is_404_when_mercadopago_is_the_provider(settings, customer_client, dummy_order):
    order, payment = dummy_order
    settings.PAYMENTS_PROVIDER = "mercadopago"
    response = simulate(customer_client, payment, "approved")
    assert response.status_code == 404
    assert PaymentNotification.objects.count() == 0
    order.refresh_from_db()
    assert order.status == "pending_payment"


@pytest.mark.django_db
def test_simulate_is_404_for_an_unknown_payment(customer_client):
    response = customer_client.post(
        "/api/v1/payments/4f9e1c51-7a0e-4a53-9c65-1c2d4f1f0a11/simulate",
        {"status": "approved"},
        format="json",
    )
    assert response.status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize("status", ["refunded", "pending", "", None])
def test_only_approved_or_rejected_can_be_simulated(customer_client, dummy_order, status):
    order, payment = dummy_order
    response = simulate(customer_client, payment, status)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid"
    assert "status" in response.json()["error"]["details"]
    assert PaymentNotification.objects.count() == 0


# --- the hosted checkout page (browser, signed token instead of a JWT) ------------------------


def page_url(payment) -> str:
    url = urlparse(payment.checkout_url)
    return f"{url.path}?{url.query}"


@pytest.mark.django_db
def test_checkout_page_shows_order_amount_and_both_buttons(client, dummy_order):
    order, payment = dummy_order
    response = client.get(page_url(payment))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    assert order.number in html
    assert f"{payment.amount} {payment.currency}" in html
    assert 'value="approved"' in html and 'value="rejected"' in html
    token = parse_qs(urlparse(payment.checkout_url).query)["token"][0]
    assert f'action="/api/v1/payments/{payment.id}/simulate?token={token}' in html.replace("%3A", ":")


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["", "garbage", "other-payment"])
def test_checkout_page_needs_this_payments_token(client, dummy_order, token):
    order, payment = dummy_order
    if token == "other-payment":
        token = checkout_token_make("4f9e1c51-7a0e-4a53-9c65-1c2d4f1f0a11")
    response = client.get(f"/api/v1/payments/{payment.id}/checkout?token={token}")
    assert response.status_code == 404


@pytest.mark.django_db
def test_checkout_page_form_approves_once_and_then_shows_the_outcome(client, dummy_order):
    order, payment = dummy_order
    token = parse_qs(urlparse(payment.checkout_url).query)["token"][0]
    action = f"/api/v1/payments/{payment.id}/simulate?token={token}"
    with committed():
        response = client.post(action, {"status": "approved"})  # form-encoded, like the page
    assert response.status_code == 303
    assert response["Location"] == page_url(payment)
    order.refresh_from_db()
    assert order.status == "paid"

    # The token decided a pending payment once: a second decision is not taken.
    with committed():
        again = client.post(action, {"status": "rejected"})
    assert again.status_code == 303
    assert PaymentNotification.objects.count() == 1
    page = client.get(page_url(payment)).content.decode()
    assert 'data-testid="status">approved<' in page
    assert 'value="approved"' not in page


@pytest.mark.django_db
def test_checkout_token_cannot_act_on_another_payment(client, customer, variant, dummy_order):
    order, payment = dummy_order
    _, other = place(customer, (variant, 1))
    token = parse_qs(urlparse(other.checkout_url).query)["token"][0]
    response = client.post(f"/api/v1/payments/{payment.id}/simulate?token={token}", {"status": "approved"})
    assert response.status_code == 404
    assert PaymentNotification.objects.count() == 0


@pytest.mark.django_db
def test_checkout_page_is_404_when_mercadopago_is_the_provider(settings, client, dummy_order):
    order, payment = dummy_order
    settings.PAYMENTS_PROVIDER = "mercadopago"
    assert client.get(page_url(payment)).status_code == 404


@pytest.mark.django_db
def test_approval_after_rejection_refunds_because_the_order_was_cancelled(
    customer_client, dummy_order, variant
):
    order, payment = dummy_order
    simulate(customer_client, payment, "rejected")
    response = simulate(customer_client, payment, "approved")
    assert response.json()["status"] == "refunded"
    assert response.json()["status_reason"].startswith("refunded automatically: order could not be paid")
    order.refresh_from_db()
    assert order.status == "cancelled"
    assert stock(variant) == (10, 0)
