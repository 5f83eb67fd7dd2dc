from django.utils.translation import gettext_lazy as _

from suffrage.core.navigation import NavItem

ITEMS = [
    NavItem("roll:index", _("Electoral roll"), "roll.view_roll", order=30),
    NavItem("roll:review", _("Roll matches to review"), "roll.review_links", order=32),
]
