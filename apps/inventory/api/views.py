"""Inventory and stores API (staff; inventory_clerk role). Thin views: services write, selectors read."""

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.request import Request
from rest_framework.response import Response

from shop.api.permissions import StaffModelPermissions

from .. import selectors
from ..models import StockMovement
from ..pagination import EstimatedCountPagination
from ..services import location_create, location_update, stock_adjust, stock_level_set_reorder, stock_receive
from .filters import ReorderAlertFilter, StockLevelFilter, StockMovementFilter
from .serializers import (
    MovementCreatedSerializer,
    MovementCreateSerializer,
    MovementSerializer,
    ReorderAlertSerializer,
    StockLevelSerializer,
    StockLevelUpdateSerializer,
    StoreSerializer,
)


class StoreListCreateView(generics.ListCreateAPIView):
    """Stores and warehouses (stock locations)."""

    permission_classes = [StaffModelPermissions]
    serializer_class = StoreSerializer
    queryset = selectors.locations_list()
    ordering_fields = ["code", "name"]

    def create(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = StoreSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        location = location_create(**data.validated_data)
        return Response(StoreSerializer(location).data, status=status.HTTP_201_CREATED)


class StoreDetailView(generics.RetrieveUpdateAPIView):
    """One store or warehouse; PATCH changes its fields (`is_default: true` moves the default here)."""

    permission_classes = [StaffModelPermissions]
    serializer_class = StoreSerializer
    queryset = selectors.locations_list()
    http_method_names = ["get", "patch", "head", "options"]

    def update(self, request: Request, *args: object, **kwargs: object) -> Response:
        location = self.get_object()
        data = StoreSerializer(location, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        location = location_update(location=location, **data.validated_data)
        return Response(StoreSerializer(location).data)


class MovementListCreateView(generics.ListCreateAPIView):
    """The stock ledger (newest first); POST books a `receive` or an `adjust`."""

    permission_classes = [StaffModelPermissions]
    serializer_class = MovementSerializer
    queryset = selectors.stock_movements_list()
    filterset_class = StockMovementFilter
    pagination_class = EstimatedCountPagination
    filter_backends = [DjangoFilterBackend]
    error_statuses = {"post": ["409"]}

    @extend_schema(request=MovementCreateSerializer, responses={201: MovementCreatedSerializer})
    def post(self, request: Request, *args: object, **kwargs: object) -> Response:
        data = MovementCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        service = stock_receive if values["kind"] == StockMovement.Kind.RECEIVE else stock_adjust
        movement = service(
            variant_id=values["variant"],
            location_id=values.get("location"),
            quantity=values["quantity"],
            reason=values.get("reason", ""),
            actor=request.user,
        )
        return Response(MovementCreatedSerializer(movement).data, status=status.HTTP_201_CREATED)


class StockLevelListView(generics.ListAPIView):
    """Stock per variant and location."""

    permission_classes = [StaffModelPermissions]
    serializer_class = StockLevelSerializer
    queryset = selectors.stock_levels_list()
    filterset_class = StockLevelFilter
    pagination_class = EstimatedCountPagination
    filter_backends = [DjangoFilterBackend]


class StockLevelDetailView(generics.RetrieveUpdateAPIView):
    """One stock level; PATCH sets its reorder point/quantity and re-syncs its reorder alert."""

    permission_classes = [StaffModelPermissions]
    serializer_class = StockLevelSerializer
    queryset = selectors.stock_levels_list()
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(request=StockLevelUpdateSerializer, responses=StockLevelSerializer)
    def patch(self, request: Request, *args: object, **kwargs: object) -> Response:
        level = self.get_object()
        data = StockLevelUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        level = stock_level_set_reorder(level_id=level.pk, actor=request.user, **data.validated_data)
        level = self.get_queryset().get(pk=level.pk)
        return Response(StockLevelSerializer(level).data)


class ReorderAlertListView(generics.ListAPIView):
    """Open reorder alerts (available at or below the reorder point)."""

    permission_classes = [StaffModelPermissions]
    serializer_class = ReorderAlertSerializer
    queryset = selectors.reorder_alerts_open()
    filterset_class = ReorderAlertFilter
    filter_backends = [DjangoFilterBackend]
