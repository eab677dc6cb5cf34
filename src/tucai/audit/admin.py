from django.contrib import admin

from tucai.audit.models import AuditEntry


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    list_display = ["at", "actor", "actor_label", "action", "entity_type", "entity_label"]
    list_filter = ["action", "entity_type"]
    search_fields = ["entity_label", "entity_id", "action", "actor__username", "note"]
    date_hierarchy = "at"

    # Append-only: visible to staff, never edited or deleted through the admin.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
