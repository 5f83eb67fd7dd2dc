from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [NavItem("imports:list", _("Imports"), "imports.import_files", order=14)]
