from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CanvassingConfig(AppConfig):
    name = "suffrage.canvassing"
    label = "canvassing"
    verbose_name = _("Canvassing")
