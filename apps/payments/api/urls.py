from django.urls import path

from . import views

urlpatterns = [
    path(
        "payments/webhooks/mercadopago",
        views.MercadoPagoWebhookView.as_view(),
        name="payment-webhook-mercadopago",
    ),
    path("payments/<uuid:payment_id>/simulate", views.PaymentSimulateView.as_view(), name="payment-simulate"),
    path("payments/<uuid:payment_id>/checkout", views.dummy_checkout_page, name="payment-dummy-checkout"),
]
