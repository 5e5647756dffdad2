"""Purchasing API (staff): suppliers and purchase orders. Views parse, call a service, render."""

import django_filters
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.api.idempotency import idempotent
from shop.api.permissions import StaffModelPermissions, require_perms

from .. import selectors, services
from ..models import PurchaseOrder, Supplier
from .serializers import (
    PurchaseOrderCancelInputSerializer,
    PurchaseOrderCreateInputSerializer,
    PurchaseOrderReceiveInputSerializer,
    PurchaseOrderSerializer,
    SupplierSerializer,
)

UNASSIGNED_HEADER = "X-Unassigned-Reorder-Alerts"
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=False,
    description="Optional: a retry with the same key and body replays the first response.",
)


class SupplierFilter(django_filters.FilterSet):
    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Supplier
        fields = ["is_active"]


class SupplierListCreateView(generics.ListCreateAPIView):
    """Suppliers (staff with purchasing permissions)."""

    serializer_class = SupplierSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = SupplierFilter
    ordering_fields = ["name", "created_at"]

    def get_queryset(self) -> QuerySet[Supplier]:
        return selectors.supplier_list()

    def create(self, request: Request, *args, **kwargs) -> Response:
        data = SupplierSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        supplier = services.supplier_create(**data.validated_data)
        return Response(SupplierSerializer(supplier).data, status=status.HTTP_201_CREATED)


class SupplierDetailView(generics.RetrieveUpdateAPIView):
    """One supplier; PATCH changes any of its fields."""

    serializer_class = SupplierSerializer
    permission_classes = [StaffModelPermissions]
    http_method_names = ["get", "patch", "options", "head"]

    def get_queryset(self) -> QuerySet[Supplier]:
        return selectors.supplier_list()

    def update(self, request: Request, *args, **kwargs) -> Response:
        supplier = self.get_object()
        data = SupplierSerializer(supplier, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        supplier = services.supplier_update(supplier=supplier, data=dict(data.validated_data))
        return Response(SupplierSerializer(supplier).data)


class PurchaseOrderFilter(django_filters.FilterSet):
    class Meta:
        model = PurchaseOrder
        fields = ["status", "supplier", "location"]


def _render(order: PurchaseOrder, *, code: int = status.HTTP_200_OK) -> Response:
    return Response(PurchaseOrderSerializer(selectors.purchase_order_get(pk=order.pk)).data, status=code)


class PurchaseOrderListCreateView(generics.ListCreateAPIView):
    """Purchase orders, newest first; POST creates a draft."""

    serializer_class = PurchaseOrderSerializer
    permission_classes = [StaffModelPermissions]
    filterset_class = PurchaseOrderFilter
    ordering_fields = ["created_at", "expected_date", "total"]
    error_statuses = {"post": ["409", "422"]}  # idempotency key in flight / reused with another body

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        return selectors.purchase_order_list()

    @extend_schema(
        request=PurchaseOrderCreateInputSerializer,
        responses={201: PurchaseOrderSerializer},
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent(required=False)
    def post(self, request: Request, *args, **kwargs) -> Response:
        data = PurchaseOrderCreateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        order = services.purchase_order_create(
            supplier=v["supplier"],
            location=v.get("location"),
            expected_date=v.get("expected_date"),
            notes=v["notes"],
            lines=[
                services.LineInput(
                    variant_id=line["variant"].pk, quantity=line["quantity"], unit_cost=line.get("unit_cost")
                )
                for line in v["lines"]
            ],
            created_by=request.user,
        )
        return _render(order, code=status.HTTP_201_CREATED)


class PurchaseOrderDetailView(generics.RetrieveAPIView):
    """One purchase order with its lines."""

    serializer_class = PurchaseOrderSerializer
    permission_classes = [StaffModelPermissions]

    def get_queryset(self) -> QuerySet[PurchaseOrder]:
        return selectors.purchase_order_list()


class _PurchaseOrderActionView(APIView):
    permission_classes = [require_perms("purchasing.change_purchaseorder")]
    error_statuses = {"post": ["409"]}

    def order(self, pk: int) -> PurchaseOrder:
        return get_object_or_404(PurchaseOrder.objects.only("pk"), pk=pk)


class PurchaseOrderPlaceView(_PurchaseOrderActionView):
    @extend_schema(request=None, responses=PurchaseOrderSerializer, summary="Place a draft purchase order")
    def post(self, request: Request, pk: int) -> Response:
        return _render(services.purchase_order_place(order=self.order(pk), actor=request.user))


class PurchaseOrderCancelView(_PurchaseOrderActionView):
    @extend_schema(
        request=PurchaseOrderCancelInputSerializer,
        responses=PurchaseOrderSerializer,
        summary="Cancel a draft or placed purchase order",
    )
    def post(self, request: Request, pk: int) -> Response:
        data = PurchaseOrderCancelInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = services.purchase_order_cancel(
            order=self.order(pk), actor=request.user, reason=data.validated_data["reason"]
        )
        return _render(order)


class PurchaseOrderReceiveView(_PurchaseOrderActionView):
    error_statuses = {"post": ["409", "422"]}

    @extend_schema(
        request=PurchaseOrderReceiveInputSerializer,
        responses=PurchaseOrderSerializer,
        summary="Receive some or all outstanding units into stock",
        description="409 `invalid_transition` unless placed or partially received; "
        "409 `over_receipt` when a quantity exceeds what the line still expects. "
        "Send an `Idempotency-Key` so a retried partial receipt is not received twice.",
        parameters=[IDEMPOTENCY_KEY],
    )
    @idempotent(required=False)
    def post(self, request: Request, pk: int) -> Response:
        data = PurchaseOrderReceiveInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        lines = data.validated_data.get("lines")
        order = services.purchase_order_receive(
            order=self.order(pk),
            lines=None
            if lines is None
            else [services.ReceiveLine(line_id=line["line"], quantity=line["quantity"]) for line in lines],
            actor=request.user,
        )
        return _render(order)


class PurchaseOrderSuggestView(APIView):
    permission_classes = [require_perms("purchasing.add_purchaseorder")]

    @extend_schema(
        request=None,
        responses={
            201: OpenApiResponse(
                PurchaseOrderSerializer(many=True),
                description="Draft orders built from open reorder alerts, one per preferred supplier "
                f"and location. `{UNASSIGNED_HEADER}` lists the ids of open alerts left out because "
                "their variant has no (active) preferred supplier.",
            )
        },
        parameters=[
            OpenApiParameter(
                UNASSIGNED_HEADER,
                OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                response=[201],
                description="Comma-separated ids of open reorder alerts with no (active) preferred supplier.",
            )
        ],
        summary="Suggest draft purchase orders from reorder alerts",
    )
    def post(self, request: Request) -> Response:
        result = services.purchase_orders_suggest(actor=request.user)
        orders = selectors.purchase_order_list().filter(pk__in=[o.pk for o in result.orders])
        response = Response(PurchaseOrderSerializer(orders, many=True).data, status=status.HTTP_201_CREATED)
        response[UNASSIGNED_HEADER] = ",".join(str(s.alert_id) for s in result.skipped)
        return response
