from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("canvassing:list", _("Canvassing"), "canvassing.view_canvassing", order=18),
    # Volunteers lack view_canvassing: their way in is the app (turfs) and the phone banks.
    NavItem("canvassing_app:home", _("My turfs"), "canvassing.canvass", order=19),
    NavItem("canvassing:calls", _("Phone banks"), "canvassing.canvass", order=19),
]
