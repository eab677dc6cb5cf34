from django.urls import path

from tucai.proofing import views

app_name = "proofing"
urlpatterns: list = [
    path("c/<slug:code>/", views.office, name="office"),
    path("c/<slug:code>/answer/<int:proof_id>/", views.answer, name="answer"),
    path("c/<slug:code>/pending/", views.pending, name="pending"),
    path("c/<slug:code>/me/photo/", views.me_photo, name="me_photo"),
    path("c/<slug:code>/me/reply/", views.me_reply, name="me_reply"),
]
