from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RollConfig(AppConfig):
    name = "suffrage.roll"
    label = "roll"
    verbose_name = _("Electoral roll")

    def ready(self) -> None:
        from suffrage.roll import signals  # noqa: F401
