from django.contrib import admin

from tucai.core.admin import ReadOnlyAdmin, TucaiAdmin
from tucai.stations.models import Shot, Station


@admin.register(Station)
class StationAdmin(TucaiAdmin):
    scope = "campaign__institution"
    list_display = ("name", "room", "campaign", "hot_folder", "current_ticket")
    list_filter = ("campaign", "room")
    raw_id_fields = ("current_ticket",)


@admin.register(Shot)
class ShotAdmin(ReadOnlyAdmin):
    # Shots change only through the services (state machine + audit): read-only here.
    scope = "campaign__institution"
    list_display = ("id", "received_at", "station", "student", "state", "verdict", "filename")
    list_filter = ("campaign", "state", "verdict", "station")
    search_fields = ("sha256", "filename", "student__student_no", "student__name")
