from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "tucai.core"
    label = "core"
    verbose_name = "tucai"
