from django.urls import path

from . import views

urlpatterns = [
    path("exposure", views.ExposureView.as_view(), name="exposure"),
    path("internal/scoring/run", views.ScoringRunView.as_view(), name="scoring-run"),
    path("admin/rankings", views.RankingListView.as_view(), name="ranking-list"),
    path("admin/exposure/pins", views.PinListCreateView.as_view(), name="exposure-pin-list"),
    path("admin/exposure/pins/<int:pk>", views.PinDetailView.as_view(), name="exposure-pin-detail"),
]
