from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from tucai.campaigns import models as m


@admin.register(m.Institution)
class InstitutionAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "office_name"]
    search_fields = ["name", "code"]


@admin.register(m.Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "institution", "graduation_year", "capture_start", "capture_end", "fee_display"]
    list_filter = ["institution", "graduation_year"]
    search_fields = ["name", "code"]
    autocomplete_fields = ["institution"]

    @admin.display(description=_("每人费用（元）"))
    def fee_display(self, obj):
        return obj.fee_yuan


@admin.register(m.Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "short_name", "institution"]
    list_filter = ["institution"]
    search_fields = ["name", "short_name"]


@admin.register(m.SchoolClass)
class SchoolClassAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "campaign", "monitor"]
    list_filter = ["campaign", "department"]
    search_fields = ["name"]
    autocomplete_fields = ["campaign", "department", "monitor"]
    list_select_related = ["department", "campaign", "monitor"]


@admin.register(m.Student)
class StudentAdmin(admin.ModelAdmin):
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

    def save_model(self, request, obj, form, change):
        from tucai.audit.services import audit_record, snapshot

        before = snapshot(m.Student.objects.get(pk=obj.pk)) if change else {}
        super().save_model(request, obj, form, change)
        after = snapshot(obj)
        audit_record(actor=request.user, action="student.update" if change else "student.create", obj=obj,
                     changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
                     note="admin")

    def delete_model(self, request, obj):
        from tucai.audit.services import audit_record, snapshot

        audit_record(actor=request.user, action="student.delete", obj=obj,
                     changes={k: [v, None] for k, v in snapshot(obj).items()}, note="admin")
        super().delete_model(request, obj)


@admin.register(m.ImportJob)
class ImportJobAdmin(admin.ModelAdmin):
    """Read-only history of web roster imports; the work happens on the roster pages."""

    list_display = ["created_at", "campaign", "filename", "full", "status", "rows_total", "error_count",
                    "created_by"]
    list_filter = ["campaign", "status", "full"]
    search_fields = ["filename"]
    list_select_related = ["campaign", "created_by"]
    readonly_fields = [f.name for f in m.ImportJob._meta.fields]

    @admin.display(description=_("错误数"))
    def error_count(self, obj):
        return len(obj.errors or [])

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(m.Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = ["__str__", "building", "name", "stations", "institution"]
    list_filter = ["institution", "building"]
    search_fields = ["building", "name"]


@admin.register(m.DepartmentRoom)
class DepartmentRoomAdmin(admin.ModelAdmin):
    list_display = ["campaign", "department", "room"]
    list_filter = ["campaign"]


class SlotAssignmentInline(admin.TabularInline):
    model = m.SlotAssignment
    extra = 0
    autocomplete_fields = ["school_class"]


@admin.register(m.TimeSlot)
class TimeSlotAdmin(admin.ModelAdmin):
    list_display = ["date", "start", "end", "room", "campaign"]
    list_filter = ["campaign", "date", "room"]
    search_fields = ["room__name", "room__building"]
    inlines = [SlotAssignmentInline]


@admin.register(m.SlotAssignment)
class SlotAssignmentAdmin(admin.ModelAdmin):
    list_display = ["school_class", "slot", "position"]
    list_filter = ["slot__campaign", "slot__room"]
    search_fields = ["school_class__name"]
    autocomplete_fields = ["school_class", "slot"]
