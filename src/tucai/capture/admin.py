from django.contrib import admin

from tucai.capture.models import CaptureCode, CheckinScan, DeskToken, ForeignCode, Ticket, TicketCounter
from tucai.core.admin import ReadOnlyAdmin, ScopedMixin


@admin.register(Ticket)
class TicketAdmin(ReadOnlyAdmin):
    scope = "campaign__institution"
    list_display = ["number", "student", "room", "date", "state", "checked_in_at", "requeue_count"]
    list_filter = ["campaign", "room", "date", "state"]
    search_fields = ["student__student_no", "student__name"]
    list_select_related = ["student", "room"]
    readonly_fields = ["number", "queue_order", "checked_in_at", "called_at", "at_camera_at", "done_at", "raw_code"]


@admin.register(CaptureCode)
class CaptureCodeAdmin(ReadOnlyAdmin):
    scope = "campaign__institution"
    list_display = ["student", "version", "issued_at", "revoked_at", "revoke_reason"]
    list_filter = ["campaign"]
    search_fields = ["student__student_no", "student__name"]
    list_select_related = ["student"]
    # Codes change only through the audited services (re-issue / revoke pages).
    readonly_fields = ["campaign", "student", "version", "token", "issued_at", "issued_by", "revoked_at", "revoked_by",
                       "revoke_reason"]


@admin.register(ForeignCode)
class ForeignCodeAdmin(ReadOnlyAdmin):
    scope = "campaign__institution"
    list_display = ["student", "source", "bound_at", "bound_by"]
    list_filter = ["campaign", "source"]
    search_fields = ["student__student_no", "student__name"]
    readonly_fields = ["campaign", "token_hash", "raw_token", "student", "source", "bound_at", "bound_by"]


@admin.register(CheckinScan)
class CheckinScanAdmin(ReadOnlyAdmin):
    scope = "campaign__institution"
    list_display = ["created_at", "room", "date", "result", "reason", "student", "desk", "actor"]
    list_filter = ["campaign", "room", "date", "result", "reason"]
    search_fields = ["student__student_no", "student__name", "nonce"]
    list_select_related = ["student", "room", "actor"]


@admin.register(TicketCounter)
class TicketCounterAdmin(ReadOnlyAdmin):
    scope = "campaign__institution"
    list_display = ["campaign", "room", "date", "last_number"]
    readonly_fields = ["campaign", "room", "date", "last_number"]


@admin.register(DeskToken)
class DeskTokenAdmin(ScopedMixin, admin.ModelAdmin):
    scope = "campaign__institution"
    list_display = ["pk", "user", "room", "date", "desk", "issued_at", "expires_at", "revoked_at"]
    list_filter = ["campaign", "room", "date"]
    list_select_related = ["user", "room"]
    actions = ["revoke"]
    # Tokens are issued by the desk page and ended with the audited revoke service (the action below).
    readonly_fields = ["user", "campaign", "room", "date", "desk", "issued_at", "expires_at", "revoked_at",
                       "revoked_by"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="作废所选签到台令牌")
    def revoke(self, request, queryset):
        from tucai.capture.services.desk import desk_token_revoke

        for token in queryset.select_related("campaign"):
            desk_token_revoke(token=token, actor=request.user)
