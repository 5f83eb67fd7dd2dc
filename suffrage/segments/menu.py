from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("segments:list", _("Segments"), "segments.view_segments", order=12),
]
