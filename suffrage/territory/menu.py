from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("territory:map", _("Map"), "territory.view_territory", order=20),
    NavItem("territory:stations", _("Polling stations"), "territory.view_territory", order=22),
    NavItem("territory:ranking", _("Priorities"), "territory.rank_stations", order=24),
    NavItem("territory:blocs", _("Blocs"), "territory.edit_blocs", order=26),
]
