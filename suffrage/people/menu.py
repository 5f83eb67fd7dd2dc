from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("people:list", _("People"), "people.view_people", order=10),
    NavItem("people:duplicates", _("Duplicates"), "people.merge_people", order=12),
]
