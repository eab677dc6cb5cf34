from django.contrib import admin

from tucai.stations.models import Shot, Station


@admin.register(Station)
class StationAdmin(admin.ModelAdmin):
    list_display = ("name", "room", "campaign", "hot_folder", "current_ticket")
    list_filter = ("campaign", "room")
    raw_id_fields = ("current_ticket",)


@admin.register(Shot)
class ShotAdmin(admin.ModelAdmin):
    # Shots change only through the services (state machine + audit): read-only here.
    list_display = ("id", "received_at", "station", "student", "state", "verdict", "filename")
    list_filter = ("campaign", "state", "verdict", "station")
    search_fields = ("sha256", "filename", "student__student_no", "student__name")
    readonly_fields = [f.name for f in Shot._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
