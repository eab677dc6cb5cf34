from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tucai.campaigns import models as m
from tucai.core.admin import ReadOnlyAdmin, ScopedMixin, TucaiAdmin


@admin.register(m.Institution)
class InstitutionAdmin(TucaiAdmin):
    scope = "pk"

    def has_add_permission(self, request, obj=None):
        return request.user.is_superuser  # new institutions are set up by the operator of the system

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser

    list_display = ["name", "code", "office_name"]
    search_fields = ["name", "code"]


@admin.register(m.Campaign)
class CampaignAdmin(TucaiAdmin):
    scope = "institution"
    list_display = ["name", "code", "institution", "graduation_year", "capture_start", "capture_end", "fee_display"]
    list_filter = ["institution", "graduation_year"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["institution"]

    @admin.display(description=_("每人费用（元）"))
    def fee_display(self, obj):
        return obj.fee_yuan


@admin.register(m.Department)
class DepartmentAdmin(TucaiAdmin):
    scope = "institution"
    list_display = ["name", "short_name", "institution"]
    list_filter = ["institution"]
    search_fields = ["name", "short_name"]


@admin.register(m.SchoolClass)
class SchoolClassAdmin(TucaiAdmin):
    scope = "campaign__institution"
    list_display = ["name", "department", "campaign", "monitor"]
    list_filter = ["campaign", "department"]
    search_fields = ["name"]
    autocomplete_fields = ["campaign", "department", "monitor"]
    list_select_related = ["department", "campaign", "monitor"]


@admin.register(m.Student)
class StudentAdmin(TucaiAdmin):
    scope = "campaign__institution"
    list_display = ["student_no", "name", "gender", "school_class", "department", "doc_type", "masked_doc", "status",
                    "is_demo"]
    list_filter = ["campaign", "status", "gender", "doc_type", "school_class__department", "is_demo"]
    search_fields = ["student_no", "name", "doc_number", "school_class__name"]
    autocomplete_fields = ["campaign", "school_class"]
    list_select_related = ["school_class", "school_class__department"]
    list_per_page = 100
    readonly_fields = ["updated_at"]
    # The changelist links to the roster import page of each campaign the user may import into.
    change_list_template = "campaigns/roster/admin_student_change_list.html"

    def changelist_view(self, request, extra_context=None):
        from tucai.accounts.selectors import user_can

        campaigns = m.Campaign.objects.select_related("institution").order_by("-graduation_year", "code")
        chosen = request.GET.get("campaign__id__exact")
        if chosen:
            campaigns = campaigns.filter(pk=chosen)
        extra_context = {**(extra_context or {}), "roster_campaigns": [
            c for c in campaigns[:20] if user_can(user=request.user, institution_id=c.institution_id,
                                                   perm="roster.import")]}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description=_("学院"), ordering="school_class__department__name")
    def department(self, obj):
        return obj.school_class.department

    @admin.display(description=_("证件号码"))
    def masked_doc(self, obj):
        return obj.masked_doc_number


@admin.register(m.ImportJob)
class ImportJobAdmin(ReadOnlyAdmin):
    """Read-only history of web roster imports; the work happens on the roster pages."""

    list_display = ["created_at", "campaign", "filename", "full", "status", "rows_total", "error_count",
                    "created_by"]
    list_filter = ["campaign", "status", "full"]
    search_fields = ["filename"]
    list_select_related = ["campaign", "created_by"]
    scope = "campaign__institution"

    @admin.display(description=_("错误数"))
    def error_count(self, obj):
        return len(obj.errors or [])


@admin.register(m.Room)
class RoomAdmin(TucaiAdmin):
    scope = "institution"
    list_display = ["__str__", "building", "name", "stations", "institution"]
    list_filter = ["institution", "building"]
    search_fields = ["building", "name"]


@admin.register(m.DepartmentRoom)
class DepartmentRoomAdmin(TucaiAdmin):
    scope = "campaign__institution"
    list_display = ["campaign", "department", "room"]
    list_filter = ["campaign"]


class SlotAssignmentInline(ScopedMixin, admin.TabularInline):
    scope = "slot__campaign__institution"
    model = m.SlotAssignment
    extra = 0
    autocomplete_fields = ["school_class"]


@admin.register(m.TimeSlot)
class TimeSlotAdmin(TucaiAdmin):
    scope = "campaign__institution"
    list_display = ["date", "start", "end", "room", "campaign"]
    list_filter = ["campaign", "date", "room"]
    search_fields = ["room__name", "room__building"]
    inlines = [SlotAssignmentInline]


@admin.register(m.SlotAssignment)
class SlotAssignmentAdmin(TucaiAdmin):
    scope = "slot__campaign__institution"
    list_display = ["school_class", "slot", "position"]
    list_filter = ["slot__campaign", "slot__room"]
    search_fields = ["school_class__name"]
    autocomplete_fields = ["school_class", "slot"]
