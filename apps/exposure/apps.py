from django.apps import AppConfig


class ExposureConfig(AppConfig):
    name = "apps.exposure"
    label = "exposure"
    verbose_name = "Exposure"
