"""Payments HTTP API: the Mercado Pago webhook, the development provider's simulate endpoint and page."""

import json
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions as drf_exceptions
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.exceptions import NotFound

from ..models import Payment
from ..providers.dummy import checkout_token_valid
from ..selectors import payment_get_for_user
from ..services import mercadopago_notification_receive, payment_provider_is_dummy, payment_simulate
from .serializers import (
    MercadoPagoNotificationSerializer,
    PaymentSerializer,
    PaymentSimulateSerializer,
    WebhookAckSerializer,
)


class MercadoPagoWebhookView(APIView):
    """Mercado Pago notification: verified, recorded once, processed in the background."""

    authentication_classes: list = []  # signed by Mercado Pago, not by a user; no session, no CSRF
    permission_classes = [AllowAny]
    error_statuses = {"post": ["401"]}

    @extend_schema(
        request=MercadoPagoNotificationSerializer,
        responses={200: WebhookAckSerializer},
        parameters=[
            OpenApiParameter("data.id", str, OpenApiParameter.QUERY, description="Notified resource id."),
            OpenApiParameter("type", str, OpenApiParameter.QUERY, description="Notification topic."),
            OpenApiParameter("x-signature", str, OpenApiParameter.HEADER, description="`ts=…,v1=…`"),
            OpenApiParameter("x-request-id", str, OpenApiParameter.HEADER),
        ],
        summary="Receive a Mercado Pago webhook",
    )
    def post(self, request: Request) -> Response:
        try:
            body = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            body = {}  # the body is never trusted anyway: the payment is fetched from Mercado Pago
        headers = {name.lower(): value for name, value in request.headers.items()}
        _, created = mercadopago_notification_receive(query=request.query_params, headers=headers, body=body)
        return Response({"status": "received" if created else "duplicate"})


class PaymentSimulateView(APIView):
    """Development provider: approve or reject a payment as its buyer would.

    Allowed to the order's customer and to staff (JWT or session) or to the holder of the checkout
    page's signed token (`?token=`, the browser form); anyone else gets 404.
    """

    permission_classes = [AllowAny]  # caller checked in the view: user or checkout token
    error_statuses = {"post": ["401"]}

    @extend_schema(
        request=PaymentSimulateSerializer,
        responses={
            200: PaymentSerializer,
            303: OpenApiResponse(description="Browser form: back to the page."),
        },
        parameters=[
            OpenApiParameter(
                "token",
                str,
                OpenApiParameter.QUERY,
                description="The checkout page's signed token, instead of a JWT (development provider page).",
            )
        ],
        summary="Approve or reject a payment (development provider only)",
    )
    def post(self, request: Request, payment_id: str) -> Response | HttpResponse:
        if not payment_provider_is_dummy():
            raise NotFound("Payment not found.")
        token = request.query_params.get("token", "")
        if token:
            payment = (
                Payment.objects.filter(pk=payment_id).first()
                if checkout_token_valid(token, payment_id)
                else None
            )
        elif request.user.is_authenticated:
            payment = payment_get_for_user(payment_id=payment_id, user=request.user)
        else:
            raise drf_exceptions.NotAuthenticated()
        if payment is None:
            raise NotFound("Payment not found.")
        serializer = PaymentSimulateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor_id = request.user.pk if request.user.is_authenticated else None
        if token:
            # The page's token decides a pending payment once; afterwards the page shows the outcome.
            if payment.status == Payment.Status.PENDING:
                payment_simulate(
                    payment=payment, status=serializer.validated_data["status"], actor_id=actor_id
                )
            return HttpResponseRedirect(_checkout_page(payment_id, token), status=303)
        payment = payment_simulate(
            payment=payment, status=serializer.validated_data["status"], actor_id=actor_id
        )
        return Response(PaymentSerializer(payment).data)


def _checkout_page(payment_id: str, token: str) -> str:
    path = reverse("payment-dummy-checkout", kwargs={"payment_id": payment_id})
    return f"{path}?{urlencode({'token': token})}"


@require_GET
def dummy_checkout_page(request: HttpRequest, payment_id: str) -> HttpResponse:
    """The development provider's hosted checkout: order, amount, Approve / Reject."""
    token = request.GET.get("token", "")
    if not payment_provider_is_dummy() or not token or not checkout_token_valid(token, str(payment_id)):
        raise Http404
    payment = (
        Payment.objects.select_related("order").filter(pk=payment_id, provider=Payment.Provider.DUMMY).first()
    )
    if payment is None:
        raise Http404
    simulate = reverse("payment-simulate", kwargs={"payment_id": payment_id})
    context = {
        "payment": payment,
        "order": payment.order,
        "action": f"{simulate}?{urlencode({'token': token})}",
        "pending": payment.status == Payment.Status.PENDING,
    }
    return render(request, "payments/dummy_checkout.html", context)
