from django.urls import path

from tucai.fees import views

app_name = "fees"
urlpatterns: list = [
    path("c/<slug:code>/", views.overview, name="overview"),
    path("c/<slug:code>/class/<int:class_id>/", views.class_page, name="class"),
    path("c/<slug:code>/class/<int:class_id>/record/", views.class_record, name="class_record"),
    path("c/<slug:code>/student/", views.student_page, name="student"),
    path("c/<slug:code>/payments/", views.payments, name="payments"),
    path("payments/<int:pk>/void/", views.payment_void, name="void"),
]
