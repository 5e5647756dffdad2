from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.exposure import selectors
from apps.exposure.models import ExposurePin, ProductRanking
from apps.exposure.services.mix import DEFAULT_LIMIT, exposure_get
from apps.exposure.services.pins import pin_create, pin_delete
from apps.exposure.services.scoring import scoring_run
from apps.exposure.tasks import scoring_run_task
from shop.api.permissions import StaffModelPermissions, require_perms
from shop.exceptions import ValidationFailed

from .serializers import (
    ExposureMixSerializer,
    ExposureQuerySerializer,
    PinSerializer,
    RankingSerializer,
    ScoringRunQueuedSerializer,
    ScoringRunRequestSerializer,
    ScoringRunResultSerializer,
)


class ExposureView(APIView):
    """A product mix for the storefront (home, category page, personalized carousel)."""

    permission_classes = [permissions.AllowAny]
    serializer_class = ExposureMixSerializer

    @extend_schema(
        parameters=[
            ExposureQuerySerializer,
            OpenApiParameter("X-Anonymous-Id", str, OpenApiParameter.HEADER, required=False),
        ],
        responses=ExposureMixSerializer,
    )
    def get(self, request: Request) -> Response:
        params = request.query_params
        # Parsed by hand on this hot path (a DRF serializer costs about as much as a cache hit); the
        # service validates the values and raises 400 `invalid` with details by field.
        errors: dict[str, list[str]] = {}
        category_id = _int_param(params, "category_id", errors)
        limit = _int_param(params, "limit", errors)
        if errors:
            raise ValidationFailed(details=errors)
        user = request.user
        payload = exposure_get(
            context=params.get("context", ""),
            category_id=category_id,
            limit=DEFAULT_LIMIT if limit is None else limit,
            customer_id=user.pk if user.is_authenticated else None,
            anonymous_id=params.get("anonymous_id") or request.headers.get("X-Anonymous-Id", ""),
        )
        return Response(payload)


def _int_param(params, name: str, errors: dict[str, list[str]]) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        errors[name] = ["A valid integer is required."]
        return None


class ScoringRunView(APIView):
    """Run the scoring job now (wait for it) or queue it."""

    permission_classes = [require_perms("exposure.change_productranking")]
    serializer_class = ScoringRunRequestSerializer

    @extend_schema(
        request=ScoringRunRequestSerializer,
        responses={
            200: ScoringRunResultSerializer,
            202: OpenApiResponse(ScoringRunQueuedSerializer, description="Queued on the worker."),
        },
    )
    def post(self, request: Request) -> Response:
        body = ScoringRunRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if body.validated_data["wait"]:
            result = scoring_run()
            return Response(ScoringRunResultSerializer(result).data)
        task = scoring_run_task.delay()
        return Response({"task_id": task.id}, status=status.HTTP_202_ACCEPTED)


class RankingListView(generics.ListAPIView):
    """Product rankings, sortable by each score (`ordering=-exposure_score`)."""

    permission_classes = [StaffModelPermissions]
    serializer_class = RankingSerializer
    queryset = ProductRanking.objects.none()
    filter_backends = [OrderingFilter]
    ordering_fields = [
        "popularity_score",
        "cold_score",
        "profit_score",
        "freshness_score",
        "exposure_score",
        "computed_at",
        "product",
    ]
    ordering = ["-exposure_score", "product"]

    def get_queryset(self):
        return selectors.ranking_list()


class PinListCreateView(generics.ListCreateAPIView):
    """Merchandising pins (staff with the exposure pin permissions, e.g. the marketing role)."""

    permission_classes = [StaffModelPermissions]
    serializer_class = PinSerializer
    queryset = ExposurePin.objects.none()
    filter_backends: list = []

    def get_queryset(self):
        return selectors.pin_list()

    def perform_create(self, serializer: PinSerializer) -> None:
        serializer.instance = pin_create(**serializer.validated_data, actor=self.request.user)


class PinDetailView(generics.RetrieveDestroyAPIView):
    permission_classes = [StaffModelPermissions]
    serializer_class = PinSerializer
    queryset = ExposurePin.objects.none()

    def get_queryset(self):
        return selectors.pin_list()

    def perform_destroy(self, instance: ExposurePin) -> None:
        pin_delete(pin=instance)
