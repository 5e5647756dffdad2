from django.apps import AppConfig


class RebatesConfig(AppConfig):
    name = "apps.rebates"
    label = "rebates"
    verbose_name = "Rebates"
