from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("engagement:overview", _("Engagement"), "engagement.view_engagement", order=16),
]
