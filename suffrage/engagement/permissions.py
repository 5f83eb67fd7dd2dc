"""Who does what with public engagement: organisers build forms, petitions, events
and calls to action and check people in; managers also configure the public site;
analysts read results; exporting submissions needs the export permission."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "view_engagement": rule(
        _("See forms, petitions, events and their results"), {Role.OWNER, Role.MANAGER, Role.ORGANISER, Role.ANALYST}
    ),
    "edit_engagement": rule(
        _("Create and edit forms, petitions, events and calls to action"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}
    ),
    "check_in": rule(_("Check people in at events"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}),
    "configure_site": rule(_("Configure the public site and its embedding"), {Role.OWNER, Role.MANAGER}),
    "export_engagement": rule(_("Export submissions and RSVPs"), {Role.OWNER, Role.MANAGER}),
}
