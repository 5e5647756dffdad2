from django.apps import AppConfig


class ShopApiConfig(AppConfig):
    name = "shop.api"
    label = "shop_api"
    verbose_name = "API kernel"
