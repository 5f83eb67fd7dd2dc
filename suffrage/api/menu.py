from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("api:tokens", _("API"), "api.manage_tokens", order=940),
    NavItem("api:webhooks", _("Webhooks"), "api.manage_webhooks", order=945),
]
