"""Who manages the campaign's connections to other tools: owners create and revoke API
tokens (a token reads data in bulk); owners and managers manage webhooks."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "manage_tokens": rule(_("Create and revoke API tokens"), {Role.OWNER}),
    "manage_webhooks": rule(_("Manage webhooks and replay their deliveries"), {Role.OWNER, Role.MANAGER}),
}
