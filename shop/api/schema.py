"""OpenAPI schema: every operation documents the error responses it can give."""

from typing import Any

from drf_spectacular.openapi import AutoSchema as BaseAutoSchema
from rest_framework import permissions, serializers


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable machine-readable code, e.g. `insufficient_stock`.")
    message = serializers.CharField()
    details = serializers.JSONField(help_text="Context: invalid fields, short lines, request id, …")


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


_DESCRIPTIONS = {
    "400": "Invalid input (`invalid`; `details` keyed by field).",
    "401": "Not authenticated.",
    "403": "Forbidden.",
    "404": "Not found (also for other customers' objects).",
    "409": "Conflict with the current state.",
    "413": "Request body too large.",
    "422": "Idempotency key reused with a different body.",
    "429": "Rate limited; see `Retry-After`.",
}


class AutoSchema(BaseAutoSchema):
    """Adds the shared error shape for the statuses an operation can return."""

    def _error_statuses(self) -> list[str]:
        codes = []
        if self.method in ("POST", "PUT", "PATCH") or self._is_list_view() or self.method == "GET":
            codes.append("400")
        public = (
            any(isinstance(p, permissions.AllowAny) for p in self.view.get_permissions())
            if hasattr(self.view, "get_permissions")
            else False
        )
        if not public:
            codes += ["401", "403"]
        if "{" in self.path or "pk" in self.path:
            codes.append("404")
        codes += getattr(self.view, "error_statuses", {}).get(self.method.lower(), [])
        return codes

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        for status in self._error_statuses():
            if status not in responses:
                body = self._get_response_for_code(ErrorSerializer, status, direction=direction)
                body["description"] = _DESCRIPTIONS.get(status, "Error.")
                responses[status] = body
        return responses
