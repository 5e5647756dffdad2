from django.contrib import admin, messages

from .dispatch import outbox_dispatch
from .models import HandlerRun, OutboxEvent


class HandlerRunInline(admin.TabularInline):
    model = HandlerRun
    extra = 0
    can_delete = False
    readonly_fields = ("handler", "completed_at")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(OutboxEvent)
class OutboxEventAdmin(admin.ModelAdmin):
    list_display = ("name", "id", "created_at", "dispatched_at", "attempts")
    list_filter = ("name", ("dispatched_at", admin.EmptyFieldListFilter))
    search_fields = ("id", "name")
    date_hierarchy = "created_at"
    readonly_fields = ("id", "name", "payload", "created_at", "dispatched_at", "attempts", "last_error")
    inlines = [HandlerRunInline]
    actions = ["redispatch"]

    def has_add_permission(self, request):
        return False

    @admin.action(description="Dispatch selected events now")
    def redispatch(self, request, queryset):
        done = sum(1 for pk in queryset.values_list("pk", flat=True) if outbox_dispatch(event_id=pk))
        self.message_user(request, f"{done} event(s) dispatched.", messages.SUCCESS)
