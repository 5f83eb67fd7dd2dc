from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("core:dashboard", _("Dashboard"), "core.view_dashboard", order=0),
    NavItem("core:jobs", _("Jobs"), "core.view_jobs", order=900),
    NavItem("core:members", _("Members"), "core.view_members", order=910),
    NavItem("core:settings", _("Settings"), "core.edit_settings", order=920),
    NavItem("core:audit", _("Audit log"), "core.view_audit", order=930),
]
