"""The import pages. Each kind of file also needs its own app's permission
(pipeline.KIND_PERMISSIONS), checked when a batch of that kind is used."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "import_files": rule(_("Upload files to import"), {Role.OWNER, Role.MANAGER}),
}
