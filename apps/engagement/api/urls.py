from django.urls import path

from apps.engagement.api.views import EventsView

urlpatterns = [
    path("events", EventsView.as_view(), name="events"),
]
