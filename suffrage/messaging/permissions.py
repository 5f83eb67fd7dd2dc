"""Who does what with email: organisers compose, managers send and configure where
messages leave from (senders, transports and their secrets); analysts read reports."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "view_mailings": rule(
        _("See mailings and their reports"), {Role.OWNER, Role.MANAGER, Role.ORGANISER, Role.ANALYST}
    ),
    "edit_mailings": rule(_("Write mailings and templates, send tests"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}),
    "send_mailings": rule(_("Send, schedule, pause and cancel mailings"), {Role.OWNER, Role.MANAGER}),
    "configure_email": rule(_("Configure senders, transports and email settings"), {Role.OWNER, Role.MANAGER}),
}
