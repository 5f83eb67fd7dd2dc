"""Who does what with social networks: organisers import the campaign's audiences and
review suggested matches; owners and managers connect the campaign's accounts (their
tokens); analysts read the reports."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "view_social": rule(
        _("See the social accounts, imports and reports"), {Role.OWNER, Role.MANAGER, Role.ORGANISER, Role.ANALYST}
    ),
    "import_social": rule(
        _("Import followers and leads, review suggested matches"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}
    ),
    "configure_social": rule(_("Connect the campaign's social accounts"), {Role.OWNER, Role.MANAGER}),
}
