from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MessagingConfig(AppConfig):
    name = "suffrage.messaging"
    label = "messaging"
    verbose_name = _("Email")

    def ready(self) -> None:
        from suffrage.messaging import signals  # noqa: F401
