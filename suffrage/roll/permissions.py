"""The roll holds names, birth dates and addresses of every elector: staff who work
on the base see it; analysts see aggregates elsewhere; volunteers never."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "view_roll": rule(_("Browse the electoral roll and who is on it"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}),
    "import_roll": rule(_("Import roll extracts"), {Role.OWNER, Role.MANAGER}),
    "match_roll": rule(_("Match people to the roll and train the model"), {Role.OWNER, Role.MANAGER}),
    "review_links": rule(_("Review proposed roll matches"), {Role.OWNER, Role.MANAGER, Role.ORGANISER}),
}
