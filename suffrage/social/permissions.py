"""Who does what with social networks: organisers import the campaign's audiences,
review suggested matches, and write, schedule and publish posts; owners and managers
connect the campaign's accounts (their tokens); analysts read the posts, the calendar
and the reports."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "view_social": rule(
        _("See the social accounts, posts, calendar and reports"),
        {Role.OWNER, Role.MANAGER, Role.ORGANISER, Role.ANALYST},
    ),
    "import_social": rule(
        _("Import followers and leads, review suggested matches"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}
    ),
    "publish_social": rule(
        _("Write, schedule and publish posts on the campaign's accounts"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}
    ),
    "configure_social": rule(_("Connect the campaign's social accounts"), {Role.OWNER, Role.MANAGER}),
}
