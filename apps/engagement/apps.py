from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "apps.engagement"
    label = "engagement"
    verbose_name = "Engagement"
