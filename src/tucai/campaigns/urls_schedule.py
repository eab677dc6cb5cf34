# Schedule planner and printable notice pages (names: campaigns:schedule_*, campaigns:notice_*).
from django.urls import path

from tucai.campaigns import views_schedule as v

urlpatterns: list = [
    path("<slug:code>/schedule/", v.schedule_page, name="schedule_page"),
    path("<slug:code>/schedule/move/", v.schedule_move, name="schedule_move"),
    path("<slug:code>/schedule/unassign/", v.schedule_unassign_view, name="schedule_unassign"),
    path("<slug:code>/schedule/plan/", v.schedule_plan_view, name="schedule_plan"),
    path("<slug:code>/notice/", v.notice_page, name="notice_page"),
    path("<slug:code>/notice.pdf", v.notice_pdf_view, name="notice_pdf"),
]
