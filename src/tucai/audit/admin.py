from django.contrib import admin

from tucai.audit.models import AuditEntry
from tucai.core.admin import ReadOnlyAdmin


@admin.register(AuditEntry)
class AuditEntryAdmin(ReadOnlyAdmin):
    scope = "institution_id"
    list_display = ["at", "actor", "actor_label", "action", "entity_type", "entity_label"]
    list_filter = ["action", "entity_type"]
    search_fields = ["entity_label", "entity_id", "action", "actor__username", "note"]
    date_hierarchy = "at"
