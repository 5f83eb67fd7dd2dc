"""Who does what with text messages. Mailings by text use email's rules (messaging:
organisers write, managers send); here: who configures the SMS settings, who hands
conversations out, and who answers them — a volunteer only the ones given to them."""

from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role, rule

PERMISSIONS = {
    "configure_sms": rule(_("Configure the SMS settings (sender, hours, STOP words)"), {Role.OWNER, Role.MANAGER}),
    "manage_conversations": rule(
        _("See every text conversation, hand them out, write canned answers"),
        {Role.OWNER, Role.MANAGER, Role.ORGANISER},
    ),
    "converse": rule(
        _("Answer the text conversations given to them, one person at a time"),
        {Role.OWNER, Role.MANAGER, Role.ORGANISER, Role.VOLUNTEER},
    ),
}
