# Schedule planner and printable notice pages (names: campaigns:schedule_*, campaigns:notice_*).
urlpatterns: list = []
