# Roster import/export pages (names: campaigns:roster_*).
urlpatterns: list = []
