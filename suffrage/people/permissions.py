"""Who may do what with people. Analysts never see individuals; volunteers
reach people only through what they are assigned (canvassing, later)."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

STAFF = {Role.OWNER, Role.MANAGER, Role.ORGANISER}

PERMISSIONS = {
    "view_people": rule(_("See people and their details"), STAFF | {Role.DPO}),
    "edit_people": rule(_("Add and edit people, tags, notes and consent"), STAFF),
    "view_sensitive": rule(_("See and record support levels (sensitive data)"), {Role.OWNER, Role.MANAGER}),
    "bulk_edit": rule(_("Tag, untag or block contact for many people at once"), {Role.OWNER, Role.MANAGER}),
    "merge_people": rule(_("Review duplicates and merge people"), {Role.OWNER, Role.MANAGER}),
    "import_people": rule(_("Import people from files"), {Role.OWNER, Role.MANAGER}),
    "export_people": rule(_("Export people to files"), {Role.OWNER, Role.MANAGER}),
    "manage_fields": rule(_("Define custom fields"), {Role.OWNER, Role.MANAGER}),
}
