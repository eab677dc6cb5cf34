from django.urls import path

from tucai.handoff import views

app_name = "handoff"
urlpatterns: list = [
    path("c/<slug:code>/", views.page, name="page"),
    path("c/<slug:code>/build/", views.build, name="build"),
]
