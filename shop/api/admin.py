from django.contrib import admin

from .models import IdempotencyKey


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("key", "scope", "method", "path", "status", "response_status", "created_at")
    list_filter = ("status", "method")
    search_fields = ("key", "scope", "path")
    date_hierarchy = "created_at"

    def has_add_permission(self, request):  # keys are written by the API only
        return False

    def has_change_permission(self, request, obj=None):
        return False
