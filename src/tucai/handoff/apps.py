from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class HandoffConfig(AppConfig):
    name = "tucai.handoff"
    label = "handoff"
    verbose_name = _("学信网交付")
