"""Kernel API endpoints that belong to no business domain."""

from drf_spectacular.utils import extend_schema
from rest_framework import permissions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class PingSerializer(serializers.Serializer):
    status = serializers.CharField()


class PingView(APIView):
    """Constant answer through the whole DRF stack: a client's connectivity probe and the bench baseline."""

    permission_classes = [permissions.AllowAny]
    # No authentication: the answer is the same for everyone and must not touch the database.
    authentication_classes: list = []

    @extend_schema(responses=PingSerializer, summary='Constant `{"status": "ok"}`, no database')
    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})
