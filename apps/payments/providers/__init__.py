"""Provider registry: `get_provider()` returns the implementation named by settings.PAYMENTS_PROVIDER."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import PaymentProvider, ProviderError, ProviderPayment

DUMMY = "dummy"
MERCADOPAGO = "mercadopago"
PROVIDERS = (DUMMY, MERCADOPAGO)


def get_provider(name: str | None = None) -> PaymentProvider:
    """Return the provider `name` (default: settings.PAYMENTS_PROVIDER, read at call time)."""
    name = name or settings.PAYMENTS_PROVIDER
    if name == DUMMY:
        from .dummy import DummyProvider

        return DummyProvider()
    if name == MERCADOPAGO:
        if not settings.MERCADOPAGO_ACCESS_TOKEN:
            raise ImproperlyConfigured(
                "PAYMENTS_PROVIDER is 'mercadopago' but MERCADOPAGO_ACCESS_TOKEN is empty."
            )
        from .mercadopago import MercadoPagoProvider

        return MercadoPagoProvider(access_token=settings.MERCADOPAGO_ACCESS_TOKEN)
    raise ImproperlyConfigured(f"Unknown PAYMENTS_PROVIDER {name!r}; expected one of {', '.join(PROVIDERS)}.")


__all__ = [
    "DUMMY",
    "MERCADOPAGO",
    "PROVIDERS",
    "PaymentProvider",
    "ProviderError",
    "ProviderPayment",
    "get_provider",
]
