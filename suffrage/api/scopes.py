"""What an API token may do. A token holds a list of scopes; each endpoint names the
one it needs. Scopes that reach personal data make every call an audit row."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Scope(models.TextChoices):
    PEOPLE_READ = "people:read", _("Read people, their tags and custom fields")
    PEOPLE_WRITE = "people:write", _("Create and update people, tag them")
    SEGMENTS_READ = "segments:read", _("Read segments and lists, count segments")
    ENGAGEMENT_READ = "engagement:read", _("Read events, forms, petitions and their answers")
    ENGAGEMENT_WRITE = "engagement:write", _("Record sign-ups, submissions and attendances")
    MAILINGS_READ = "mailings:read", _("Read mailings and their reports")
    CANVASSING_READ = "canvassing:read", _("Read canvasses and visits")
    ANALYTICS_READ = "analytics:read", _("Read polling stations and election results")


# Scopes whose calls can return or change someone's personal data: audited call by call.
PERSONAL_SCOPES = frozenset(
    {
        Scope.PEOPLE_READ,
        Scope.PEOPLE_WRITE,
        Scope.SEGMENTS_READ,
        Scope.ENGAGEMENT_READ,
        Scope.ENGAGEMENT_WRITE,
        Scope.CANVASSING_READ,
    }
)
