from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    name = "suffrage.core"
    label = "core"
    verbose_name = _("Campaigns and members")

    def ready(self) -> None:
        from suffrage.core import signals  # noqa: F401  (sign-in audit receivers)
