from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaptureConfig(AppConfig):
    name = "tucai.capture"
    label = "capture"
    verbose_name = _("现场采集")
