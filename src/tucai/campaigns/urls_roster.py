# Roster import/export pages (names: campaigns:roster_*).
from django.urls import path

from tucai.campaigns import views_roster as v

urlpatterns: list = [
    path("<slug:code>/roster/", v.roster_home, name="roster_import"),
    path("<slug:code>/roster/jobs/<int:job_id>/", v.roster_job, name="roster_job"),
    path("<slug:code>/roster/jobs/<int:job_id>/commit/", v.roster_job_commit, name="roster_job_commit"),
    path("<slug:code>/roster/jobs/<int:job_id>/cancel/", v.roster_job_cancel, name="roster_job_cancel"),
    path("<slug:code>/roster/jobs/<int:job_id>/errors.csv", v.roster_job_errors_csv, name="roster_job_errors"),
    path("<slug:code>/roster/export.<str:fmt>", v.roster_export_download, name="roster_export"),
]
