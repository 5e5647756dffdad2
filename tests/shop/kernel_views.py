"""Views used only by the kernel tests: each raises one class of error or exercises a mechanism."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.urls import path
from rest_framework import permissions, serializers
from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import APIView

from shop.api.idempotency import idempotent
from shop.events import publish
from shop.exceptions import Conflict, InsufficientStock


class _Input(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1)
    name = serializers.CharField()


class ValidateView(APIView):
    permission_classes = [permissions.AllowAny]

    def post(self, request):
        _Input(data=request.data).is_valid(raise_exception=True)
        return Response({"ok": True})


class BoomView(APIView):
    permission_classes = [permissions.AllowAny]

    def get(self, request):
        raise RuntimeError("secret internal detail")


class StockView(APIView):
    permission_classes = [permissions.AllowAny]

    def get(self, request):
        raise InsufficientStock(details={"lines": [{"variant": 1, "requested": 3, "available": 1}]})


class ThrottledView(APIView):
    permission_classes = [permissions.AllowAny]

    def get(self, request):
        raise Throttled(wait=12)


class Django404View(APIView):
    permission_classes = [permissions.AllowAny]

    def get(self, request):
        raise Http404("no such thing")


class DjangoForbiddenView(APIView):
    permission_classes = [permissions.AllowAny]

    def get(self, request):
        raise DjangoPermissionDenied


class StaffOnlyView(APIView):
    permission_classes = [permissions.IsAdminUser]

    def get(self, request):
        return Response({"ok": True})


class GetOnlyView(APIView):
    permission_classes = [permissions.AllowAny]

    def get(self, request):
        return Response({"ok": True})


class EffectView(APIView):
    """Publishes one event per executed request: the idempotency tests count the effects."""

    permission_classes = [permissions.IsAuthenticated]

    @idempotent(required=True)
    def post(self, request):
        if request.data.get("fail") == "conflict":
            raise Conflict("state conflict")
        event = publish("test_effect", {"value": request.data.get("value")})
        return Response({"event": str(event.id), "value": request.data.get("value")}, status=201)


urlpatterns = [
    path("validate", ValidateView.as_view()),
    path("boom", BoomView.as_view()),
    path("stock", StockView.as_view()),
    path("throttled", ThrottledView.as_view()),
    path("django404", Django404View.as_view()),
    path("djangoforbidden", DjangoForbiddenView.as_view()),
    path("staff-only", StaffOnlyView.as_view()),
    path("get-only", GetOnlyView.as_view()),
    path("effect", EffectView.as_view()),
]

handler404 = "shop.api.exceptions.json_404"
