from django.urls import path

from tucai.campaigns import views

app_name = "campaigns"

urlpatterns = [
    path("<slug:code>/", views.campaign_detail, name="detail"),
]
