"""Territory and results are figures by area: every staff role and analysts see them.
Volunteers see the maps of their turfs through canvassing, not these pages."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

ANALYSIS = {Role.OWNER, Role.MANAGER, Role.ORGANISER, Role.ANALYST}

PERMISSIONS = {
    "view_territory": rule(_("See maps, polling stations and past results"), ANALYSIS),
    "import_territory": rule(_("Import results, boundaries, address points and census"), {Role.OWNER, Role.MANAGER}),
    "rank_stations": rule(_("Rank polling stations and save rankings"), ANALYSIS),
    "edit_blocs": rule(_("Group political families into blocs"), {Role.OWNER, Role.MANAGER}),
}
