"""The five roles a member can hold in a campaign."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    ORGANISER = "organiser", _("Organiser")
    VOLUNTEER = "volunteer", _("Volunteer")
    ANALYST = "analyst", _("Analyst")
    # The data-protection officer: rights requests, retention, the register; sees the
    # people concerned, nothing in bulk beyond that.
    DPO = "dpo", _("Data-protection officer")


ALL_ROLES = frozenset(Role)
# Roles that can reach personal data in bulk: the campaign's MFA rule binds them.
MFA_BOUND_ROLES = frozenset({Role.OWNER, Role.MANAGER, Role.DPO})


@dataclass(frozen=True)
class Rule:
    """One line of an app's permission table: what it allows, and to whom."""

    label: StrOrPromise
    roles: frozenset[str]


def rule(label: StrOrPromise, roles: Iterable[str]) -> Rule:
    return Rule(label, frozenset(roles))
