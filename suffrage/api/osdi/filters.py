"""OSDI's `filter` query parameter: the subset of OData that Action Network accepts.

    ?filter=modified_date gt '2025-03-01'
    ?filter=email_address eq 'anne@example.org'
    ?filter=created_date gt '2025-01-01' and created_date lt '2025-02-01T12:00:00Z'

Conditions are joined by `and`; a value is quoted with single quotes (a quote inside
is doubled, as in OData). Each collection says which properties it accepts and with
which operators; anything else is a 400 that names the accepted ones. There is no
filter on names: Suffrage offers no selection by surname."""

from __future__ import annotations

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from suffrage.api.osdi.hal import OsdiError
from suffrage.imports.normalise import InvalidValue, normalise_email, normalise_phone

CONDITION = re.compile(r"\s*([a-z_]+)\s+(eq|gt|lt)\s+'((?:[^']|'')*)'\s*", re.IGNORECASE)
AND = re.compile(r"\s+and\s+", re.IGNORECASE)


@dataclass(frozen=True)
class Filterable:
    """A property a collection can be filtered on: its operators and how a value
    becomes a condition on the queryset."""

    operators: tuple[str, ...]
    condition: Callable[[str, str], Q]  # (operator, value) -> Q; raises ValueError for a bad value


def _moment(value: str) -> datetime.datetime:
    """'2025-03-01' (midnight, the server's time zone) or an ISO 8601 date and time."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(_("Expected a date (2025-03-01) or a date and time (2025-03-01T12:00:00Z)."))
        moment = datetime.datetime.combine(day, datetime.time())
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_default_timezone())
    return moment


def date_filter(field: str) -> Filterable:
    def condition(operator: str, value: str) -> Q:
        return Q(**{f"{field}__{operator}": _moment(value)})

    return Filterable(("gt", "lt"), condition)


def _email(field: str) -> Callable[[str, str], Q]:
    def condition(operator: str, value: str) -> Q:
        try:
            return Q(**{field: normalise_email(value)})
        except InvalidValue as error:
            raise ValueError(str(error)) from None

    return condition


def _phone(field: str, region: str) -> Callable[[str, str], Q]:
    def condition(operator: str, value: str) -> Q:
        try:
            phone = normalise_phone(osdi_number(value), default_region=region)
        except InvalidValue as error:
            raise ValueError(str(error)) from None
        return Q(**{field: phone.e164 if phone else ""})

    return condition


def email_filter(field: str) -> Filterable:
    return Filterable(("eq",), _email(field))


def phone_filter(field: str, region: str) -> Filterable:
    return Filterable(("eq",), _phone(field, region))


def osdi_number(value: str) -> str:
    """OSDI writes numbers as digits with the country code and no "+" (33612345678):
    such a number, not a French national one (0612345678), gets its "+" back."""
    digits = value.strip()
    if digits.isdigit() and not digits.startswith("0") and len(digits) >= 11:
        return f"+{digits}"
    return value


def filter_query(text: str, accepted: dict[str, Filterable]) -> Q:
    """The conditions of a `filter` parameter, all of them (and)."""
    text = text.strip()
    if not text:
        return Q()
    if not accepted:
        raise OsdiError(400, _("The request is not valid."), [("filter", _("This collection cannot be filtered."))])
    query = Q()
    for part in AND.split(text):
        match = CONDITION.fullmatch(part)
        if match is None:
            raise _bad(_("Write each condition as: property operator 'value', e.g. modified_date gt '2025-03-01'."))
        name, operator, value = match.group(1).lower(), match.group(2).lower(), match.group(3).replace("''", "'")
        if name not in accepted:
            names = ", ".join(sorted(accepted))
            raise _bad(_("Cannot filter on “%(name)s”. Accepted: %(names)s.") % {"name": name, "names": names})
        filterable = accepted[name]
        if operator not in filterable.operators:
            accepted_operators = ", ".join(filterable.operators)
            raise _bad(_("“%(name)s” accepts: %(operators)s.") % {"name": name, "operators": accepted_operators})
        try:
            query &= filterable.condition(operator, value)
        except ValueError as error:
            raise _bad(f"{name}: {error}") from None
    return query


def _bad(reason: str) -> OsdiError:
    return OsdiError(400, _("The filter is not valid."), [("filter", reason)])
