from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("texting:list", _("SMS"), "messaging.view_mailings", order=15),
    # Volunteers have no access to mailings: their way in is their conversations.
    NavItem("texting:inbox", _("Conversations"), "texting.converse", order=15),
]
