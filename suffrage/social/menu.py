from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [NavItem("social:home", _("Social networks"), "social.view_social", order=17)]
