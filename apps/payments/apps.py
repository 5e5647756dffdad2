from django.apps import AppConfig


class PaymentsConfig(AppConfig):
    name = "apps.payments"
    label = "payments"
    verbose_name = "Payments"

    def ready(self) -> None:
        from apps.orders.ports import register_payment_gateway

        from .services import PaymentsGateway

        register_payment_gateway(PaymentsGateway())
