"""Segments select people: staff who work on the base build them; analysts count
(the builder shows counts and breakdowns, and a sample only to those who may see people)."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "view_segments": rule(
        _("Build segments and see their counts"), {Role.OWNER, Role.MANAGER, Role.ORGANISER, Role.ANALYST}
    ),
    "edit_segments": rule(_("Save, freeze and delete segments"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}),
}
