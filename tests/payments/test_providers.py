"""Provider selection and the Mercado Pago adapter, with Mercado Pago faked at the HTTP layer."""

import json
from decimal import Decimal

import pytest
import responses
from django.core.exceptions import ImproperlyConfigured

from apps.payments.providers import ProviderError, get_provider
from apps.payments.providers.dummy import DummyProvider, simulated_payment_id
from apps.payments.providers.mercadopago import MercadoPagoProvider, preference_items
from tests.factories.orders import OrderFactory, OrderLineFactory
from tests.factories.payments import PaymentFactory

from .conftest import MP_API, mp_payment, mp_preference, mp_refund


def test_provider_is_chosen_by_settings_at_call_time(settings):
    settings.PAYMENTS_PROVIDER = "dummy"
    assert isinstance(get_provider(), DummyProvider)
    settings.PAYMENTS_PROVIDER = "mercadopago"
    assert isinstance(get_provider(), MercadoPagoProvider)


def test_unknown_provider_is_a_configuration_error(settings):
    settings.PAYMENTS_PROVIDER = "paypal"
    with pytest.raises(ImproperlyConfigured, match="Unknown PAYMENTS_PROVIDER 'paypal'"):
        get_provider()


def test_mercadopago_without_access_token_is_a_configuration_error(settings):
    settings.PAYMENTS_PROVIDER = "mercadopago"
    settings.MERCADOPAGO_ACCESS_TOKEN = ""
    with pytest.raises(ImproperlyConfigured, match="MERCADOPAGO_ACCESS_TOKEN"):
        get_provider()


@pytest.fixture
def order_with_lines(db):
    order = OrderFactory(subtotal=Decimal("50.00"), shipping_total=Decimal("10.00"), number="SO-000042")
    OrderLineFactory(order=order, sku="SKU-A", name="Coffee 1kg", quantity=2, unit_price=Decimal("20.00"))
    OrderLineFactory(order=order, sku="SKU-B", name="Filter", quantity=1, unit_price=Decimal("10.00"))
    return order


@pytest.mark.django_db
def test_checkout_pro_preference_carries_items_payer_urls_reference_and_idempotency_key(
    settings, mp, order_with_lines
):
    settings.SHOP_PUBLIC_URL = "https://shop.example"
    settings.MERCADOPAGO_NOTIFICATION_URL = "https://shop.example/api/v1/payments/webhooks/mercadopago"
    payment = PaymentFactory(order=order_with_lines, provider="mercadopago")
    mp.add(responses.POST, f"{MP_API}/checkout/preferences", json=mp_preference("pref-1"), status=201)

    with pytest.warns(DeprecationWarning, match="notification_url"):  # the SDK's own warning
        reference, url = get_provider("mercadopago").create_checkout(payment, order_with_lines)

    assert (reference, url) == (
        "pref-1",
        "https://www.mercadopago.com.pe/checkout/v1/redirect?pref_id=pref-1",
    )
    request = mp.calls[0].request
    assert request.headers["Authorization"] == "Bearer TEST-access-token"
    assert request.headers["x-idempotency-key"] == f"shop-checkout-{payment.id}"
    body = json.loads(request.body)
    order_id = str(order_with_lines.id)
    assert body["items"] == [
        {"id": "SKU-A", "title": "Coffee 1kg", "quantity": 2, "unit_price": 20.0, "currency_id": "PEN"},
        {"id": "SKU-B", "title": "Filter", "quantity": 1, "unit_price": 10.0, "currency_id": "PEN"},
        {"id": "shipping", "title": "Shipping", "quantity": 1, "unit_price": 10.0, "currency_id": "PEN"},
    ]
    assert body["payer"] == {"email": order_with_lines.customer.email, "name": "Ana", "surname": "Torres"}
    assert body["back_urls"] == {
        "success": f"https://shop.example/orders/{order_id}?payment=success",
        "failure": f"https://shop.example/orders/{order_id}?payment=failure",
        "pending": f"https://shop.example/orders/{order_id}?payment=pending",
    }
    assert body["auto_return"] == "approved"
    assert body["external_reference"] == order_id
    assert body["notification_url"] == "https://shop.example/api/v1/payments/webhooks/mercadopago"
    assert body["metadata"] == {"payment_id": str(payment.id), "order_number": "SO-000042"}
    assert body["expires"] is True


@pytest.mark.django_db
def test_preference_has_no_notification_url_unless_configured(settings, mp, order_with_lines):
    settings.MERCADOPAGO_NOTIFICATION_URL = ""
    payment = PaymentFactory(order=order_with_lines, provider="mercadopago")
    mp.add(responses.POST, f"{MP_API}/checkout/preferences", json=mp_preference(), status=201)
    get_provider("mercadopago").create_checkout(payment, order_with_lines)
    assert "notification_url" not in json.loads(mp.calls[0].request.body)


@pytest.mark.django_db
def test_items_collapse_to_one_line_when_an_order_discount_cannot_be_itemized(db):
    order = OrderFactory(
        subtotal=Decimal("30.00"),
        discount_total=Decimal("3.33"),
        shipping_total=Decimal("0.00"),
        number="SO-7",
    )
    OrderLineFactory(order=order, sku="SKU-A", quantity=3, unit_price=Decimal("10.00"))
    assert preference_items(order) == [
        {"id": "SO-7", "title": "Order SO-7", "quantity": 1, "unit_price": 26.67, "currency_id": "PEN"}
    ]


@pytest.mark.django_db
def test_a_line_discount_that_does_not_split_into_cents_becomes_one_unit(db):
    order = OrderFactory(subtotal=Decimal("29.99"), shipping_total=Decimal("0.00"))
    OrderLineFactory(
        order=order,
        sku="SKU-A",
        name="Tea",
        quantity=3,
        unit_price=Decimal("10.00"),
        discount=Decimal("0.01"),
    )
    assert preference_items(order) == [
        {"id": "SKU-A", "title": "Tea", "quantity": 1, "unit_price": 29.99, "currency_id": "PEN"}
    ]


@pytest.mark.django_db
def test_a_rejected_preference_is_a_provider_error(mp, order_with_lines):
    payment = PaymentFactory(order=order_with_lines, provider="mercadopago")
    mp.add(
        responses.POST,
        f"{MP_API}/checkout/preferences",
        json={"message": "invalid items", "error": "bad_request", "status": 400, "cause": []},
        status=400,
    )
    with pytest.raises(ProviderError) as caught:
        get_provider("mercadopago").create_checkout(payment, order_with_lines)
    assert caught.value.status == 400


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mp_status", "ours"),
    [
        ("approved", "approved"),
        ("pending", "pending"),
        ("in_process", "pending"),
        ("authorized", "pending"),
        ("rejected", "rejected"),
        ("cancelled", "cancelled"),
        ("refunded", "refunded"),
        ("charged_back", "refunded"),
    ],
)
def test_fetched_payment_status_is_normalized(mp, mp_status, ours):
    order = OrderFactory()
    payment = PaymentFactory(order=order, provider="mercadopago")
    mp.add(
        responses.GET,
        f"{MP_API}/v1/payments/555",
        json=mp_payment(order, status=mp_status, payment=payment, mp_id=555),
    )
    remote = get_provider("mercadopago").fetch_payment("555")
    assert remote.status == ours
    assert remote.external_reference == str(order.id)
    assert remote.amount == order.total
    assert remote.provider_payment_id == "555"
    assert remote.payment_id == str(payment.id)
    assert remote.raw["status"] == mp_status


@pytest.mark.django_db
def test_fetching_an_unknown_payment_reports_404(mp):
    mp.add(
        responses.GET,
        f"{MP_API}/v1/payments/404",
        json={"message": "Payment not found", "status": 404},
        status=404,
    )
    with pytest.raises(ProviderError) as caught:
        get_provider("mercadopago").fetch_payment("404")
    assert caught.value.status == 404


@pytest.mark.django_db
def test_refund_posts_a_full_refund_with_a_deterministic_idempotency_key(mp):
    payment = PaymentFactory(provider="mercadopago", provider_payment_id="777", status="approved")
    mp.add(
        responses.POST, f"{MP_API}/v1/payments/777/refunds", json=mp_refund(777, payment.amount), status=201
    )
    answer = get_provider("mercadopago").refund(payment)
    assert answer["status"] == "approved"
    request = mp.calls[0].request
    assert request.headers["x-idempotency-key"] == f"shop-refund-{payment.id}"
    assert request.body is None  # no amount: a full refund


@pytest.mark.django_db
def test_dummy_provider_reads_back_a_simulated_payment(db):
    payment = PaymentFactory()
    remote = DummyProvider().fetch_payment(simulated_payment_id(str(payment.id), "approved"))
    assert (remote.status, remote.external_reference, remote.amount, remote.payment_id) == (
        "approved",
        str(payment.order_id),
        payment.amount,
        str(payment.id),
    )
    with pytest.raises(ProviderError):
        DummyProvider().fetch_payment(f"dummy-{payment.id}-refunded")
