from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProofingConfig(AppConfig):
    name = "tucai.proofing"
    label = "proofing"
    verbose_name = _("校对与勘误")
