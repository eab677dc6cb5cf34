from django.urls import path

from tucai.campaigns import views
from tucai.campaigns.urls_roster import urlpatterns as roster_urls
from tucai.campaigns.urls_schedule import urlpatterns as schedule_urls

app_name = "campaigns"

urlpatterns = [
    path("<slug:code>/", views.campaign_detail, name="detail"),
    *roster_urls,
    *schedule_urls,
]
