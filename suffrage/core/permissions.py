"""Who may do what in the core app. Every app has a table like this one.

Keys are actions; the access layer names them "<app label>.<action>".
Analysts see aggregates, never people; volunteers see only what they are assigned.
"""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import ALL_ROLES, Role, rule

PERMISSIONS = {
    "view_dashboard": rule(_("See the campaign dashboard"), ALL_ROLES),
    "view_jobs": rule(_("Follow background jobs they may see"), ALL_ROLES),
    "view_members": rule(_("See the members and their roles"), {Role.OWNER, Role.MANAGER}),
    "manage_members": rule(_("Invite, change roles, remove members"), {Role.OWNER}),
    "edit_settings": rule(_("Change settings and the election calendar"), {Role.OWNER}),
    "view_audit": rule(_("Read the audit log"), {Role.OWNER}),
    "export_audit": rule(_("Export the audit log"), {Role.OWNER}),
}
