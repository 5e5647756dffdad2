"""POST /events: the storefront's tracking endpoint."""

import json
import time

from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.engagement.api.serializers import EventBatchSerializer, IngestResultSerializer
from apps.engagement.metrics import INGEST_LATENCY, REQUESTS_RATE_LIMITED
from apps.engagement.services import decode_body, events_ingest
from shop.ratelimit import RateLimitExceeded, RateLimitMixin, client_ip, user_identity


class EventsView(RateLimitMixin, APIView):
    permission_classes = [AllowAny]
    renderer_classes = [JSONRenderer]
    ratelimit_rules = (("events:ip", client_ip), ("events:customer", user_identity))
    error_statuses = {"post": ["413", "429"]}

    @extend_schema(
        operation_id="events_create",
        summary="Record storefront events",
        description=(
            "A batch `{sent_at?, anonymous_id?, events: [...]}` of at most 500 events, or one event object. "
            "Invalid events are rejected one by one (`rejected[].index`, `code`) while the rest are stored; "
            "an `event_id` already stored counts as a duplicate. Known bots get 202 with nothing stored. "
            "More than 500 events → 413 `batch_too_large`; a body over 1 MB → 413 `payload_too_large`. "
            "Rate limited per IP and per customer (429 with `Retry-After`, `RateLimit-Policy`, `RateLimit`)."
        ),
        request=EventBatchSerializer,
        responses={202: OpenApiResponse(IngestResultSerializer, description="Events processed.")},
        tags=["engagement"],
    )
    def post(self, request: Request) -> HttpResponse:
        started = time.perf_counter()
        # The raw body, not request.data: Django's HttpRequest.body enforces DATA_UPLOAD_MAX_MEMORY_SIZE
        # (RequestDataTooBig → 413), which DRF's JSON parser would bypass.
        payload = decode_body(request.body)
        result = events_ingest(
            payload=payload,
            customer_id=request.user.pk if request.user.is_authenticated else None,
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
        )
        INGEST_LATENCY.observe(time.perf_counter() - started)
        # A plain JSON response: DRF's content negotiation and renderer would cost this hot path more
        # than the 202 body (fixed shape, JSON only) is worth.
        return HttpResponse(json.dumps(result.as_dict()), status=202, content_type="application/json")

    def perform_content_negotiation(self, request: Request, force: bool = False) -> tuple:
        # JSON is the only representation: skip parsing the Accept header on the hot path.
        renderer = JSONRenderer()
        return renderer, renderer.media_type

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, RateLimitExceeded):
            for policy in exc.decision.limited_by:
                REQUESTS_RATE_LIMITED.labels(policy=policy).inc()
        return super().handle_exception(exc)
