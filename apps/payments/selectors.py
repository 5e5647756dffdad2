"""Payments' reads."""

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from .models import Payment


def payment_latest_per_order(*, order_ids: list[Any]) -> QuerySet[Payment]:
    """The newest payment of each given order, as one query."""
    newest = (
        Payment.objects.filter(order_id=OuterRef("order_id")).order_by("-created_at", "-pk").values("pk")[:1]
    )
    return Payment.objects.filter(order_id__in=order_ids, pk=Subquery(newest)).only(
        "id", "order_id", "provider", "status", "checkout_url"
    )


def payment_get_for_user(*, payment_id: Any, user: Any) -> Payment | None:
    """A payment the user may act on: their own order's, or any for staff; None otherwise."""
    payments = Payment.objects.select_related("order")
    if not getattr(user, "is_staff", False):
        payments = payments.filter(order__customer_id=user.pk)
    return payments.filter(pk=payment_id).first()
