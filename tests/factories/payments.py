import factory
from django.utils import timezone

from apps.payments.models import Payment, PaymentNotification
from tests.factories.orders import OrderFactory


class PaymentFactory(factory.django.DjangoModelFactory):
    """A pending dummy payment for an order's total."""

    class Meta:
        model = Payment

    order = factory.SubFactory(OrderFactory)
    provider = Payment.Provider.DUMMY
    status = Payment.Status.PENDING
    amount = factory.LazyAttribute(lambda o: o.order.total)
    currency = factory.LazyAttribute(lambda o: o.order.currency)


class PaymentNotificationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = PaymentNotification

    provider = Payment.Provider.MERCADOPAGO
    provider_key = factory.Sequence(lambda n: f"mercadopago:notification:{100000 + n}")
    topic = "payment"
    action = "payment.updated"
    resource_id = factory.Sequence(lambda n: str(20359978 + n))
    payload = factory.LazyAttribute(
        lambda o: {"type": o.topic, "action": o.action, "data": {"id": o.resource_id}, "live_mode": False}
    )
    headers = factory.LazyFunction(lambda: {"x-request-id": "req-1"})
    processed_at = factory.LazyFunction(timezone.now)
    result = "unchanged: pending"
