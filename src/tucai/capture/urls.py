from django.urls import path

from tucai.capture import views_queue

app_name = "capture"
urlpatterns: list = [
    path("queue/<int:room_id>/<str:day>/controls/", views_queue.queue_controls, name="queue_controls"),
    path("queue/<int:room_id>/<str:day>/<slug:action>/", views_queue.queue_action, name="queue_action"),
]
