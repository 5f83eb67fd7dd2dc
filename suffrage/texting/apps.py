from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TextingConfig(AppConfig):
    name = "suffrage.texting"
    label = "texting"
    verbose_name = _("Text messages")
