from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("privacy:dashboard", _("Data protection"), "privacy.manage_requests", order=40),
]
