"""Privacy work belongs to the data-protection officer and the owner (the controller)."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

OFFICERS = {Role.OWNER, Role.DPO}

PERMISSIONS = {
    "manage_requests": rule(_("Handle rights requests (access, erasure, objection…)"), OFFICERS),
    "erase_people": rule(_("Erase a person and everything held about them"), OFFICERS),
    "manage_retention": rule(_("Set retention rules and apply them"), OFFICERS),
    "manage_register": rule(_("Edit and export the processing register"), OFFICERS),
}
