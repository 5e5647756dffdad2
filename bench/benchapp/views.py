"""The "insert" baseline: a DRF endpoint that validates a small body and inserts one row."""

from rest_framework import generics, permissions, serializers

from .models import BenchRow


class BenchRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = BenchRow
        fields = ["id", "name", "value", "created_at"]
        read_only_fields = ["id", "created_at"]


class InsertView(generics.CreateAPIView):
    """POST {"name", "value"} → 201 with the row: serializer + one INSERT, the cost of a typical write."""

    serializer_class = BenchRowSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
