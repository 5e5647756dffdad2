"""Project URLs: admin, API v1, schema and docs, health and metrics."""

from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from shop import health
from shop.api.exceptions import json_404, json_500
from shop.observability.metrics import metrics_view

# Django tries these in order and the paths do not overlap: the storefront's highest-rate endpoints
# (events, exposure mixes, catalog reads, orders) come first, the back office last.
api_v1 = [
    path("", include("shop.api.urls")),
    path("", include("apps.engagement.api.urls")),
    path("", include("apps.exposure.api.urls")),
    path("", include("apps.catalog.api.urls")),
    path("", include("apps.orders.api.urls")),
    path("", include("apps.payments.api.urls")),
    path("", include("apps.accounts.api.urls")),
    path("", include("apps.inventory.api.urls")),
    path("", include("apps.purchasing.api.urls")),
    path("", include("apps.rebates.api.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("health", health.liveness, name="health"),
    path("health/ready", health.readiness, name="health-ready"),
    path("metrics", metrics_view, name="prometheus-metrics"),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler404 = json_404
handler500 = json_500
