"""Bench URLconf: the project's URLs plus the bench-only insert baseline."""

from django.urls import path

from config.urls import handler404, handler500
from config.urls import urlpatterns as project_urlpatterns

from .views import InsertView

urlpatterns = [
    path("api/v1/_bench/insert", InsertView.as_view(), name="bench-insert"),
    *project_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
