from django.contrib import admin

from tucai.core.admin import ReadOnlyAdmin
from tucai.fees.models import Payment, PaymentLine


class PaymentLineInline(admin.TabularInline):
    model = PaymentLine
    extra = 0
    can_delete = False
    readonly_fields = ["student", "amount_fen"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    # Money is written only by the audited services (fee pages, `tucai fees`): read-only here.
    scope = "campaign__institution"
    list_display = ["id", "received_at", "campaign", "school_class", "method", "payer_name", "reference", "total_fen",
                    "state", "received_by"]
    list_filter = ["campaign", "state", "method"]
    search_fields = ["reference", "payer_name", "lines__student__student_no", "lines__student__name"]
    list_select_related = ["campaign", "school_class", "received_by"]
    inlines = [PaymentLineInline]


@admin.register(PaymentLine)
class PaymentLineAdmin(ReadOnlyAdmin):
    scope = "payment__campaign__institution"
    list_display = ["payment", "student", "amount_fen"]
    list_filter = ["payment__campaign", "payment__state"]
    search_fields = ["student__student_no", "student__name", "payment__reference"]
    list_select_related = ["payment", "student"]
