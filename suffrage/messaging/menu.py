from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("messaging:list", _("Email"), "messaging.view_mailings", order=14),
]
