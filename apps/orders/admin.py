"""Back office for orders: a read-only order page (lines, discounts, payments, shipments, timeline)
whose only writes are the actions ship / deliver / cancel / refund, each calling its service.

Orders never imports payments: the payment inline, the notifications list and the payment-status
filter reach the payments tables by model name (`apps.get_model`) and the `payments` relation.
"""

from typing import Any

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.helpers import ActionForm
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from shop.exceptions import ApplicationError

from .models import Order, OrderDiscount, OrderEvent, OrderLine, Shipment
from .services import order_cancel, order_deliver, order_refund, order_ship

PAYMENT_STATUSES = [
    ("pending", "Pending"),
    ("approved", "Approved"),
    ("rejected", "Rejected"),
    ("cancelled", "Cancelled"),
    ("refunded", "Refunded"),
]


def _payment_model() -> Any:
    try:
        return apps.get_model("payments", "Payment")
    except LookupError:  # payments not installed
        return None


class PaymentStatusFilter(admin.SimpleListFilter):
    title = "payment status"
    parameter_name = "payment_status"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        return PAYMENT_STATUSES

    def queryset(self, request: HttpRequest, queryset: QuerySet[Order]) -> QuerySet[Order]:
        if self.value() in dict(PAYMENT_STATUSES):
            return queryset.filter(payments__status=self.value()).distinct()
        return queryset


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return list(self.fields)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class OrderLineInline(_ReadOnlyInline):
    model = OrderLine
    fields = ("variant", "sku", "name", "quantity", "unit_price", "discount", "line_total")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderLine]:
        return super().get_queryset(request).select_related("variant")


class OrderDiscountInline(_ReadOnlyInline):
    model = OrderDiscount
    fields = ("promotion", "code", "type", "amount", "description")


class ShipmentInline(_ReadOnlyInline):
    model = Shipment
    fields = ("carrier", "tracking_number", "status", "shipped_at", "delivered_at", "created_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shipment]:
        return super().get_queryset(request).select_related("created_by")


class OrderEventInline(_ReadOnlyInline):
    model = OrderEvent
    verbose_name_plural = "timeline"
    fields = ("created_at", "from_status", "to_status", "actor", "reason")
    ordering = ("created_at", "id")

    def get_queryset(self, request: HttpRequest) -> QuerySet[OrderEvent]:
        return super().get_queryset(request).select_related("actor")


def _payment_inline() -> type[admin.TabularInline] | None:
    model = _payment_model()
    if model is None:
        return None

    class PaymentInline(_ReadOnlyInline):
        fields = ("id", "provider", "status", "amount", "currency", "provider_reference", "created_at")
        show_change_link = True
        ordering = ("-created_at",)

    PaymentInline.model = model
    return PaymentInline


class ShipActionForm(ActionForm):
    carrier = forms.CharField(required=False, max_length=64, help_text="For “Ship”.")
    tracking_number = forms.CharField(required=False, max_length=128)


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = (
        "number",
        "customer_email",
        "status",
        "payment_status",
        "total",
        "currency",
        "created_at",
    )
    list_filter = ("status", ("created_at", admin.DateFieldListFilter), PaymentStatusFilter)
    search_fields = ("number", "customer__email")
    list_select_related = ("customer",)
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
    show_full_result_count = False
    action_form = ShipActionForm
    actions = ["ship", "deliver", "cancel", "refund"]
    fields = (
        "id",
        "number",
        "customer",
        "status",
        ("subtotal", "discount_total", "shipping_total", "total", "currency"),
        "promotion_code",
        "voucher_code",
        "shipping_address",
        ("created_at", "updated_at"),
        ("paid_at", "shipped_at", "delivered_at", "cancelled_at", "refunded_at"),
        "payment_notifications",
    )
    readonly_fields = (
        "id",
        "number",
        "customer",
        "status",
        "subtotal",
        "discount_total",
        "shipping_total",
        "total",
        "currency",
        "promotion_code",
        "voucher_code",
        "shipping_address",
        "created_at",
        "updated_at",
        "paid_at",
        "shipped_at",
        "delivered_at",
        "cancelled_at",
        "refunded_at",
        "payment_notifications",
    )

    def get_inlines(self, request: HttpRequest, obj: Order | None) -> list[type]:
        inlines: list[type] = [OrderLineInline, OrderDiscountInline]
        if (payment_inline := _payment_inline()) is not None:
            inlines.append(payment_inline)
        return [*inlines, ShipmentInline, OrderEventInline]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        queryset = super().get_queryset(request).select_related("customer")
        payment = _payment_model()
        if payment is not None:
            latest = payment.objects.filter(order=OuterRef("pk")).order_by("-created_at").values("status")[:1]
            queryset = queryset.annotate(latest_payment_status=Subquery(latest))
        return queryset

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders are placed by customers (POST /orders)

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False  # orders are records: cancel or refund instead

    @admin.display(description="Customer", ordering="customer__email")
    def customer_email(self, obj: Order) -> str:
        return obj.customer.email

    @admin.display(description="Payment")
    def payment_status(self, obj: Order) -> str:
        return getattr(obj, "latest_payment_status", None) or "—"

    @admin.display(description="Payment notifications")
    def payment_notifications(self, obj: Order) -> str:
        try:
            model = apps.get_model("payments", "PaymentNotification")
        except LookupError:
            return "—"
        rows = (
            model.objects.filter(payment__order=obj)
            .order_by("received_at")
            .values_list("provider_key", "received_at", "processed_at", "result")
        )
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>Key</th><th>Received</th><th>Processed</th><th>Result</th></tr>{}</table>",
            format_html_join("", "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>", rows),
        )

    def _each(self, request: HttpRequest, queryset: QuerySet[Order], verb: str, call: Any) -> None:
        done = 0
        for pk, number in queryset.values_list("pk", "number"):
            try:
                call(pk)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{number}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(request, f"{done} order(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Ship (enter carrier and tracking number)", permissions=["change"])
    def ship(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        carrier = request.POST.get("carrier", "").strip()
        tracking = request.POST.get("tracking_number", "").strip()
        if not carrier or not tracking:
            self.message_user(request, "Enter a carrier and a tracking number to ship.", messages.ERROR)
            return
        if queryset.count() != 1:
            self.message_user(request, "Ship one order at a time (one tracking number each).", messages.ERROR)
            return
        self._each(
            request,
            queryset,
            "shipped",
            lambda pk: order_ship(
                order_id=str(pk), carrier=carrier, tracking_number=tracking, actor=request.user
            ),
        )

    @admin.action(description="Mark delivered", permissions=["change"])
    def deliver(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request, queryset, "delivered", lambda pk: order_deliver(order_id=str(pk), actor=request.user)
        )

    @admin.action(description="Cancel (release stock; refund if paid)", permissions=["change"])
    def cancel(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request,
            queryset,
            "cancelled",
            lambda pk: order_cancel(
                order_id=str(pk), actor=request.user, reason="cancelled in the back office"
            ),
        )

    @admin.action(description="Refund (paid orders are restocked)", permissions=["change"])
    def refund(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        self._each(
            request,
            queryset,
            "refunded",
            lambda pk: order_refund(
                order_id=str(pk), actor=request.user, reason="refunded in the back office"
            ),
        )
