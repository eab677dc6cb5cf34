from django.urls import path

from tucai.stations import views

app_name = "stations"
urlpatterns: list = [
    path("", views.index, name="index"),
    path("new/", views.station_create, name="create"),
    path("<int:pk>/", views.station_page, name="station"),
    path("<int:pk>/live/", views.station_live, name="live"),
    path("<int:pk>/upload/", views.station_upload, name="upload"),
    path("<int:pk>/bind/", views.station_bind, name="bind"),
    path("<int:pk>/queue/<slug:action>/", views.station_queue, name="queue"),
    path("shots/<int:pk>/<slug:action>/", views.shot_action, name="shot_action"),
    path("shots/<int:pk>/image/<slug:kind>/", views.shot_image, name="shot_image"),
    path("c/<slug:code>/unmatched/", views.unmatched, name="unmatched"),
    path("c/<slug:code>/progress/", views.progress, name="progress"),
]
