from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from tucai.core import views as core_views

admin.site.site_header = _("图采 管理后台")
admin.site.site_title = _("图采")
admin.site.index_title = _("毕业生图像采集")

urlpatterns = [
    path("", core_views.home, name="home"),
    # Browsers ask for /favicon.ico whatever the page says: send them to the icon (no 404 per page view).
    path("favicon.ico", core_views.favicon),
    path("admin/", admin.site.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("c/", include("tucai.campaigns.urls")),
    path("capture/", include("tucai.capture.urls")),
    path("stations/", include("tucai.stations.urls")),
    path("fees/", include("tucai.fees.urls")),
    path("handoff/", include("tucai.handoff.urls")),
    path("proofing/", include("tucai.proofing.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
