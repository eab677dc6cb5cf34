from django.contrib import admin

from tucai.capture.models import Ticket


@admin.register(Ticket)
class TicketAdmin(admin.ModelAdmin):
    list_display = ["number", "student", "room", "date", "state", "checked_in_at", "requeue_count"]
    list_filter = ["campaign", "room", "date", "state"]
    search_fields = ["student__student_no", "student__name"]
    list_select_related = ["student", "room"]
    readonly_fields = ["number", "queue_order", "checked_in_at", "called_at", "at_camera_at", "done_at"]
