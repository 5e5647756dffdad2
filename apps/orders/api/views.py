"""Thin views over the orders services and selectors."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, status
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.api.idempotency import idempotent
from shop.api.permissions import require_perms

from .. import selectors, services
from ..models import Order
from ..ports import PaymentInfo
from ..services.checkout import RequestedLine
from .serializers import (
    AdminOrderDetailOutputSerializer,
    AdminOrderOutputSerializer,
    CartLineAddInputSerializer,
    CartLineUpdateInputSerializer,
    CartOutputSerializer,
    OrderCancelInputSerializer,
    OrderOutputSerializer,
    OrderPlaceInputSerializer,
    OrderRefundInputSerializer,
    ShipmentCreateInputSerializer,
    ShipmentOutputSerializer,
    ShipmentUpdateInputSerializer,
)


def _cart_response(request: Request, status_code: int = status.HTTP_200_OK) -> Response:
    view = selectors.cart_view(customer=request.user)
    return Response(CartOutputSerializer.build(view), status=status_code)


def _order_data(
    order: Order, serializer_class: type = OrderOutputSerializer, payment: PaymentInfo | None = None
) -> dict[str, Any]:
    payments = {str(order.id): payment} if payment else selectors.payment_summaries(orders=[order])
    return serializer_class(order, context={"payments": payments}).data


class CartView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=CartOutputSerializer, summary="The caller's cart (created on first use)")
    def get(self, request: Request) -> Response:
        return _cart_response(request)


class CartLinesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=CartLineAddInputSerializer,
        responses={201: CartOutputSerializer},
        summary="Add units of a variant to the cart (increments an existing line)",
    )
    def post(self, request: Request) -> Response:
        data = CartLineAddInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_line_add(
            customer=request.user,
            variant_id=data.validated_data["variant"],
            quantity=data.validated_data["quantity"],
        )
        return _cart_response(request, status.HTTP_201_CREATED)


class CartLineView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=CartLineUpdateInputSerializer, responses=CartOutputSerializer, summary="Set a line's quantity"
    )
    def patch(self, request: Request, line_id: int) -> Response:
        data = CartLineUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.cart_line_update(
            customer=request.user, line_id=line_id, quantity=data.validated_data["quantity"]
        )
        return _cart_response(request)

    @extend_schema(request=None, responses=CartOutputSerializer, summary="Remove a line from the cart")
    def delete(self, request: Request, line_id: int) -> Response:
        services.cart_line_delete(customer=request.user, line_id=line_id)
        return _cart_response(request)


class _OrderListMixin:
    serializer_class: type

    def _page(self, queryset: Any) -> Response:
        page = self.paginate_queryset(queryset)
        payments = selectors.payment_summaries(orders=page)
        data = self.serializer_class(page, many=True, context={"payments": payments}).data
        return self.get_paginated_response(data)


class OrdersView(_OrderListMixin, GenericAPIView):
    permission_classes = [permissions.IsAuthenticated]
    queryset = Order.objects.none()  # the real query comes from the selector; this names the model
    serializer_class = OrderOutputSerializer
    error_statuses = {"post": ["409", "422"]}

    @extend_schema(responses=OrderOutputSerializer(many=True), summary="The caller's orders, newest first")
    def get(self, request: Request) -> Response:
        return self._page(selectors.order_list(customer=request.user))

    @extend_schema(
        request=OrderPlaceInputSerializer,
        responses={201: OrderOutputSerializer},
        parameters=[
            OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True)
        ],
        summary="Place an order (from `lines` or the cart) and start its payment",
    )
    @idempotent(required=True)
    def post(self, request: Request) -> Response:
        data = OrderPlaceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        lines = values.get("lines")
        placed = services.order_place(
            customer=request.user,
            shipping_address=dict(values["shipping_address"]),
            lines=None
            if lines is None
            else [RequestedLine(variant_id=ln["variant"], quantity=ln["quantity"]) for ln in lines],
            promotion_code=values["promotion_code"],
            voucher_code=values["voucher_code"],
        )
        return Response(
            OrderOutputSerializer.build(placed.order, placed.payment), status=status.HTTP_201_CREATED
        )


class OrderDetailView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=OrderOutputSerializer, summary="One of the caller's orders")
    def get(self, request: Request, order_id: str) -> Response:
        return Response(_order_data(selectors.order_get(customer=request.user, order_id=order_id)))


class OrderCancelView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    error_statuses = {"post": ["409"]}

    @extend_schema(
        request=OrderCancelInputSerializer,
        responses=OrderOutputSerializer,
        summary="Cancel an own order that has not shipped (stock released, payment refunded)",
    )
    def post(self, request: Request, order_id: str) -> Response:
        data = OrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = selectors.order_get(customer=request.user, order_id=order_id)
        services.order_cancel(
            order_id=str(order.id),
            actor=request.user,
            reason=data.validated_data["reason"] or "cancelled by customer",
        )
        return Response(_order_data(selectors.order_get(customer=request.user, order_id=order_id)))


# ---- staff ----


class AdminOrdersView(_OrderListMixin, GenericAPIView):
    permission_classes = [require_perms("orders.view_order")]
    queryset = Order.objects.none()
    serializer_class = AdminOrderOutputSerializer

    @extend_schema(
        responses=AdminOrderOutputSerializer(many=True),
        parameters=[
            OpenApiParameter("status", OpenApiTypes.STR, enum=list(Order.Status.values)),
            OpenApiParameter("customer", OpenApiTypes.INT),
            OpenApiParameter("search", OpenApiTypes.STR, description="Order number or customer e-mail."),
        ],
        summary="Every order (staff)",
    )
    def get(self, request: Request) -> Response:
        customer = request.query_params.get("customer")
        return self._page(
            selectors.order_admin_list(
                status=request.query_params.get("status") or None,
                search=request.query_params.get("search") or None,
                customer_id=int(customer) if customer and customer.isdigit() else None,
            )
        )


class AdminOrderDetailView(APIView):
    permission_classes = [require_perms("orders.view_order")]

    @extend_schema(
        responses=AdminOrderDetailOutputSerializer, summary="One order with shipments and timeline (staff)"
    )
    def get(self, request: Request, order_id: str) -> Response:
        return Response(_admin_detail(order_id))


def _admin_detail(order_id: Any) -> dict[str, Any]:
    return _order_data(selectors.order_admin_get(order_id=order_id), AdminOrderDetailOutputSerializer)


class AdminOrderCancelView(APIView):
    permission_classes = [require_perms("orders.change_order")]
    error_statuses = {"post": ["409"]}

    @extend_schema(
        request=OrderCancelInputSerializer,
        responses=AdminOrderDetailOutputSerializer,
        summary="Cancel an order (staff)",
    )
    def post(self, request: Request, order_id: str) -> Response:
        data = OrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.order_cancel(
            order_id=order_id,
            actor=request.user,
            reason=data.validated_data["reason"] or "cancelled by staff",
        )
        return Response(_admin_detail(order_id))


class AdminOrderRefundView(APIView):
    permission_classes = [require_perms("orders.change_order")]
    error_statuses = {"post": ["409"]}

    @extend_schema(
        request=OrderRefundInputSerializer,
        responses=AdminOrderDetailOutputSerializer,
        summary="Refund a paid, shipped or delivered order (staff)",
    )
    def post(self, request: Request, order_id: str) -> Response:
        data = OrderRefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.order_refund(
            order_id=order_id,
            actor=request.user,
            reason=data.validated_data["reason"] or "refunded by staff",
            restock=data.validated_data["restock"],
        )
        return Response(_admin_detail(order_id))


class AdminOrderShipmentsView(APIView):
    permission_classes = [require_perms("orders.add_shipment", "orders.change_order")]
    error_statuses = {"post": ["409"]}

    @extend_schema(
        request=ShipmentCreateInputSerializer,
        responses={201: ShipmentOutputSerializer},
        summary="Ship a paid order (staff)",
    )
    def post(self, request: Request, order_id: str) -> Response:
        data = ShipmentCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shipment = services.order_ship(order_id=order_id, actor=request.user, **data.validated_data)
        return Response(ShipmentOutputSerializer(shipment).data, status=status.HTTP_201_CREATED)


class AdminShipmentView(APIView):
    permission_classes = [require_perms("orders.change_shipment", "orders.change_order")]
    error_statuses = {"patch": ["409"]}

    @extend_schema(
        request=ShipmentUpdateInputSerializer,
        responses=ShipmentOutputSerializer,
        summary="Mark a shipment delivered (staff)",
    )
    def patch(self, request: Request, shipment_id: int) -> Response:
        data = ShipmentUpdateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        shipment = services.shipment_deliver(shipment_id=shipment_id, actor=request.user)
        return Response(ShipmentOutputSerializer(shipment).data)
