"""Back office for payments: read-only records; the only action re-runs notification processing."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from .exceptions import PaymentProviderUnavailable
from .models import Payment, PaymentNotification
from .services import payment_notification_process

PAYMENT_FIELDS = (
    "id",
    "order",
    "provider",
    "status",
    "status_reason",
    "amount",
    "currency",
    "provider_reference",
    "provider_payment_id",
    "checkout_url",
    "raw",
    "created_at",
    "updated_at",
    "approved_at",
    "refunded_at",
)


class PaymentNotificationInline(admin.TabularInline):
    model = PaymentNotification
    extra = 0
    can_delete = False
    fields = ("provider_key", "action", "received_at", "processed_at", "result")
    readonly_fields = fields
    ordering = ("-received_at",)
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Payment)
class PaymentAdmin(admin.ModelAdmin):
    """Payments change only through provider notifications and orders' services, never by hand."""

    list_display = ("id", "order_number", "provider", "status", "amount", "currency", "created_at")
    list_filter = ("provider", "status", "created_at")
    search_fields = ("order__number", "provider_reference", "provider_payment_id", "=id")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    readonly_fields = PAYMENT_FIELDS
    fields = PAYMENT_FIELDS
    inlines = [PaymentNotificationInline]
    show_full_result_count = False

    @admin.display(description="Order", ordering="order__number")
    def order_number(self, obj: Payment) -> str:
        return obj.order.number

    def get_queryset(self, request: HttpRequest) -> QuerySet[Payment]:
        return super().get_queryset(request).select_related("order")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(PaymentNotification)
class PaymentNotificationAdmin(admin.ModelAdmin):
    list_display = (
        "provider_key",
        "provider",
        "topic",
        "action",
        "payment",
        "received_at",
        "processed_at",
        "result",
    )
    list_filter = ("provider", "topic", ("processed_at", admin.EmptyFieldListFilter))
    search_fields = ("provider_key", "resource_id", "payment__order__number")
    list_select_related = ("payment",)
    date_hierarchy = "received_at"
    readonly_fields = (
        "provider",
        "provider_key",
        "topic",
        "action",
        "resource_id",
        "payload",
        "headers",
        "payment",
        "received_at",
        "processed_at",
        "attempts",
        "result",
    )
    actions = ["process_again"]
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    @admin.action(description="Process selected unprocessed notifications now", permissions=["change"])
    def process_again(self, request: HttpRequest, queryset: QuerySet[PaymentNotification]) -> None:
        done = failed = 0
        for pk in queryset.filter(processed_at__isnull=True).values_list("pk", flat=True):
            try:
                payment_notification_process(notification_id=pk)
                done += 1
            except PaymentProviderUnavailable:
                failed += 1
        level = messages.WARNING if failed else messages.SUCCESS
        self.message_user(request, f"{done} processed, {failed} failed (provider unavailable).", level)
