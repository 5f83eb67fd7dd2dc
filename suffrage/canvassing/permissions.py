"""Who does what in canvassing: organisers plan canvasses, cut and assign turfs and
read the dashboards; volunteers use the mobile app on the turfs they hold and call
the phone banks they are given, one contact at a time; analysts read the dashboards."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "view_canvassing": rule(
        _("See canvasses, turfs and their dashboards"), {Role.OWNER, Role.MANAGER, Role.ORGANISER, Role.ANALYST}
    ),
    "edit_canvassing": rule(
        _("Plan canvasses, cut and assign turfs, set up phone banks"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}
    ),
    "canvass": rule(
        _("Knock on doors and make calls (the volunteers' app)"),
        {Role.OWNER, Role.MANAGER, Role.ORGANISER, Role.VOLUNTEER},
    ),
}
