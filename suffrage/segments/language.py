"""The filter language: a versioned JSON document, validated before anything runs.

    {"version": 1, "filter": NODE}
    NODE := {"all": [NODE, …]} | {"any": [NODE, …]} | {"not": NODE} | CONDITION
    CONDITION := {"field": "tag", "op": "any_of", "value": ["Militante"]}

`{"all": []}` is everyone. Each field accepts the operators and value shapes listed
in FIELDS. Some dimensions cannot be expressed at all (surname, place of birth,
nationality: CNIL); the support level only for roles allowed to see it, and never
for files going to a third party.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.canvassing.models import Outcome
from suffrage.people.models import Channel, CustomField, LegalBasis, Source, SupportLevel
from suffrage.roll.selectors import AGE_BANDS as ROLL_AGE_BANDS

VERSION = 1
MAX_CONDITIONS = 60
MAX_LIST = 2000
MAX_POLYGON_POINTS = 2000

ROLL_STATUSES = {
    "registered_here": gettext_lazy("registered here"),
    "elsewhere": gettext_lazy("registered elsewhere"),
    "not_found": gettext_lazy("not found on the roll"),
    "not_checked": gettext_lazy("not checked yet"),
}
# The roll's age bands (the oldest open-ended): one definition for browsing and segments.
AGE_BANDS = {band.key: (band.low, band.high or 150) for band in ROLL_AGE_BANDS}
# Engagement with one of the campaign's mailings: was sent it, opened it, clicked in it.
MAILING_OPS = ("received", "opened", "clicked")
# Engagement on the public pages: filled a given form or signed a given petition; said
# they would come to an event (or are on its waiting list), or came.
FORM_OPS = ("submitted",)
EVENT_OPS = ("rsvp", "waitlist", "attended")
# Canvassing: the person was met at a door or called, and this happened.
VISIT_OUTCOMES = tuple(Outcome.values)
FLAGS = {"member": "is_member", "volunteer": "is_volunteer", "donor": "is_donor"}
CONSENT_STATES = ("granted", "withdrawn", "unknown")
CUSTOM_OPS: dict[str, tuple[str, ...]] = {
    CustomField.Kind.TEXT: ("equals", "contains", "is_set"),
    CustomField.Kind.NUMBER: ("equals", "range", "is_set"),
    CustomField.Kind.DATE: ("equals", "range", "is_set"),
    CustomField.Kind.BOOLEAN: ("equals", "is_set"),
    CustomField.Kind.CHOICE: ("equals", "is_set"),
    CustomField.Kind.MULTIPLE: ("contains", "is_set"),
}
# Names people might try; none of them can be a condition.
FORBIDDEN = {
    "surname",
    "last_name",
    "birth_name",
    "usage_name",
    "name",
    "birth_place",
    "place_of_birth",
    "nationality",
}


@dataclass(frozen=True)
class FieldSpec:
    label: Any
    ops: tuple[str, ...]
    value: str  # the value's shape, checked by VALUE_CHECKS
    choices: tuple[Any, ...] = ()


FIELDS: dict[str, FieldSpec] = {
    "tag": FieldSpec(gettext_lazy("Tag"), ("any_of",), "strings"),
    "commune": FieldSpec(gettext_lazy("Commune"), ("in",), "strings"),
    "constituency": FieldSpec(gettext_lazy("Constituency"), ("in",), "strings"),
    "polling_station": FieldSpec(gettext_lazy("Polling station (address)"), ("in",), "strings"),
    "area": FieldSpec(gettext_lazy("Area drawn on the map"), ("within",), "polygon"),
    "near": FieldSpec(gettext_lazy("Around a point"), ("within",), "circle"),
    "reachable": FieldSpec(gettext_lazy("Can be reached by"), ("is",), "choice", tuple(Channel.values)),
    "consent": FieldSpec(gettext_lazy("Consent"), ("is",), "consent"),
    "legal_basis": FieldSpec(gettext_lazy("Legal basis"), ("in",), "choices", tuple(LegalBasis.values)),
    "source": FieldSpec(gettext_lazy("Source"), ("in",), "choices", tuple(Source.values)),
    "collected": FieldSpec(gettext_lazy("Collected between"), ("between",), "date_range"),
    "roll_status": FieldSpec(gettext_lazy("Electoral roll"), ("in",), "choices", tuple(ROLL_STATUSES)),
    "roll_station": FieldSpec(gettext_lazy("Polling station (roll)"), ("in",), "strings"),
    "age_band": FieldSpec(gettext_lazy("Age band"), ("in",), "choices", tuple(AGE_BANDS)),
    "custom": FieldSpec(gettext_lazy("Other information"), ("equals", "contains", "range", "is_set"), "custom"),
    "flag": FieldSpec(gettext_lazy("Member, volunteer or donor"), ("is",), "choice", tuple(FLAGS)),
    "support_level": FieldSpec(
        gettext_lazy("Support level (sensitive)"), ("in",), "choices", tuple(SupportLevel.values)
    ),
    "segment": FieldSpec(gettext_lazy("In the segment"), ("in",), "segment"),
    "mailing": FieldSpec(gettext_lazy("Email"), MAILING_OPS, "mailing"),
    "form": FieldSpec(gettext_lazy("Form or petition"), FORM_OPS, "form"),
    "event": FieldSpec(gettext_lazy("Event"), EVENT_OPS, "event"),
    "visit": FieldSpec(gettext_lazy("Met at the door or called, with the outcome"), ("in",), "choices", VISIT_OUTCOMES),
}


class FilterError(ValueError):
    """A document that cannot run, with a message for the person who wrote it."""


@dataclass
class Context:
    """What validation and compilation need to know beyond the document."""

    campaign_id: int
    can_sensitive: bool = False
    # "view" (pages), "export" (files for the campaign), "third_party" (files leaving it).
    purpose: str = "view"
    today: datetime.date = field(default_factory=datetime.date.today)
    custom_fields: dict[str, str] = field(default_factory=dict)  # key -> kind
    sensitive_fields: set[str] = field(default_factory=set)  # keys of custom fields marked sensitive
    segments: set[int] = field(default_factory=set)  # the campaign's segment ids
    mailings: set[int] = field(default_factory=set)  # the campaign's mailing ids
    forms: set[int] = field(default_factory=set)  # the campaign's forms and petitions (engagement.Action)
    events: set[int] = field(default_factory=set)  # the campaign's events


def validate(document: Any, context: Context) -> dict[str, Any]:
    """The document's filter node, checked; raises FilterError naming what is wrong."""
    if not isinstance(document, dict) or set(document) - {"version", "filter"}:
        raise FilterError(_('A segment is a document {"version": 1, "filter": …}.'))
    if document.get("version") != VERSION:
        raise FilterError(
            _("Unknown filter version %(version)s: this server reads version 1.") % {"version": document.get("version")}
        )
    node = document.get("filter", {"all": []})
    counter = [0]
    try:
        _node(node, context, counter, depth=0)
    except (TypeError, KeyError, IndexError, AttributeError):
        # A shape no check foresaw: still a message, never a crash.
        raise FilterError(_("Condition %(n)s cannot be read: check its value.") % {"n": counter[0]}) from None
    return dict(node)


def _node(node: Any, context: Context, counter: list[int], depth: int) -> None:
    if depth > 8:
        raise FilterError(_("Groups are nested too deep (at most 8 levels)."))
    if not isinstance(node, dict) or not node:
        raise FilterError(_("Each part of a filter is a group or a condition."))
    if "all" in node or "any" in node:
        key = "all" if "all" in node else "any"
        if set(node) != {key} or not isinstance(node[key], list):
            raise FilterError(_("A group holds only a list of conditions."))
        for child in node[key]:
            _node(child, context, counter, depth + 1)
        return
    if "not" in node:
        if set(node) != {"not"}:
            raise FilterError(_("“not” holds one condition or group."))
        _node(node["not"], context, counter, depth + 1)
        return
    counter[0] += 1
    if counter[0] > MAX_CONDITIONS:
        raise FilterError(_("A segment has at most %(n)s conditions.") % {"n": MAX_CONDITIONS})
    _condition(node, context, counter[0])


def _condition(condition: dict[str, Any], context: Context, number: int) -> None:
    name = condition.get("field")
    where = _("Condition %(n)s") % {"n": number}
    if not isinstance(name, str):
        raise FilterError(_("%(where)s: the field must be a name.") % {"where": where})
    if name in FORBIDDEN:
        raise FilterError(
            _(
                "%(where)s: segments cannot use “%(field)s”. "
                "Targeting by surname, place of birth or nationality is forbidden (CNIL)."
            )
            % {"where": where, "field": name}
        )
    spec = FIELDS.get(str(name))
    if spec is None:
        raise FilterError(_("%(where)s: unknown field “%(field)s”.") % {"where": where, "field": name})
    allowed_keys = {"field", "op", "value", "key"} if name == "custom" else {"field", "op", "value"}
    if set(condition) - allowed_keys:
        extra = ", ".join(sorted(set(condition) - allowed_keys))
        raise FilterError(_("%(where)s: unexpected “%(keys)s”.") % {"where": where, "keys": extra})
    if condition.get("op") not in spec.ops:
        raise FilterError(
            _("%(where)s (%(field)s): the operator must be one of %(ops)s.")
            % {"where": where, "field": name, "ops": ", ".join(spec.ops)}
        )
    if name == "support_level" or (name == "custom" and condition.get("key") in context.sensitive_fields):
        if not context.can_sensitive:
            raise FilterError(
                _("%(where)s: “%(field)s” is sensitive data your role cannot use.")
                % {"where": where, "field": condition.get("key") if name == "custom" else spec.label}
            )
        if context.purpose == "third_party":
            raise FilterError(
                _("%(where)s: sensitive data (“%(field)s”) never goes into files for third parties.")
                % {"where": where, "field": condition.get("key") if name == "custom" else spec.label}
            )
    problem = VALUE_CHECKS[spec.value](condition, spec, context)
    if problem:
        raise FilterError(
            _("%(where)s (%(field)s): %(problem)s") % {"where": where, "field": spec.label, "problem": problem}
        )


def _strings(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    value = condition.get("value")
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        return _("give a list of one or more values.")
    if len(value) > MAX_LIST:
        return _("at most %(n)s values.") % {"n": MAX_LIST}
    return ""


def _choices(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    value = condition.get("value")
    if not isinstance(value, list) or not value:
        return _("give a list of one or more values.")
    unknown = [v for v in value if v not in spec.choices]
    if unknown:
        return _("unknown value %(value)s.") % {"value": ", ".join(map(str, unknown))}
    return ""


def _choice(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    if condition.get("value") not in spec.choices:
        return _("the value must be one of %(values)s.") % {"values": ", ".join(map(str, spec.choices))}
    return ""


def _consent(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    value = condition.get("value")
    if (
        not isinstance(value, dict)
        or value.get("channel") not in Channel.values
        or value.get("state") not in CONSENT_STATES
        or set(value) != {"channel", "state"}
    ):
        return _("give a channel (%(channels)s) and a state (%(states)s).") % {
            "channels": ", ".join(Channel.values),
            "states": ", ".join(CONSENT_STATES),
        }
    return ""


def _date(text: Any) -> datetime.date | None:
    if text in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(str(text))
    except ValueError:
        raise FilterError(_("%(value)s is not a date (YYYY-MM-DD).") % {"value": text}) from None


def _date_range(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    value = condition.get("value")
    if not isinstance(value, dict) or set(value) - {"from", "to"}:
        return _("give a start date, an end date or both.")
    start, end = _date(value.get("from")), _date(value.get("to"))
    if start is None and end is None:
        return _("give a start date, an end date or both.")
    if start and end and start > end:
        return _("the start date is after the end date.")
    return ""


def _number(value: Any) -> float | None:
    return (
        float(value)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        else None
    )


def _polygon(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    value = condition.get("value")
    rings = value.get("coordinates") if isinstance(value, dict) and value.get("type") == "Polygon" else None
    ring = rings[0] if isinstance(rings, list) and rings else None
    if not isinstance(ring, list) or not 4 <= len(ring) <= MAX_POLYGON_POINTS:
        return _("draw an area of at least three points.")
    for point in ring:
        if not isinstance(point, list) or len(point) != 2:
            return _("each point is a longitude and a latitude.")
        lon, lat = _number(point[0]), _number(point[1])
        if lon is None or lat is None or abs(lon) > 180 or abs(lat) > 90:
            return _("each point is a longitude and a latitude.")
    if ring[0] != ring[-1]:
        return _("the area must be closed (last point = first point).")
    return ""


def _circle(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    value = condition.get("value")
    if not isinstance(value, dict) or set(value) != {"lon", "lat", "metres"}:
        return _("give a point (lon, lat) and a distance in metres.")
    lon, lat, metres = (_number(value[key]) for key in ("lon", "lat", "metres"))
    if lon is None or lat is None or abs(lon) > 180 or abs(lat) > 90:
        return _("the point must be a longitude and a latitude.")
    if metres is None or not 1 <= metres <= 100_000:
        return _("the distance must be between 1 m and 100 km.")
    return ""


def _custom(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    key = condition.get("key")
    kind = context.custom_fields.get(str(key))
    if kind is None:
        return _("no field with the key “%(key)s”.") % {"key": key}
    op, value = condition["op"], condition.get("value")
    if op not in CUSTOM_OPS[kind]:
        return _("for this field, the operator must be one of %(ops)s.") % {"ops": ", ".join(CUSTOM_OPS[kind])}
    if op == "is_set":
        return "" if value in (None, True) else _("“is set” takes no value.")
    if op == "range":
        if not isinstance(value, dict) or set(value) - {"min", "max"} or not value:
            return _("give a minimum, a maximum or both.")
        bounds = [v for v in value.values() if v is not None]
        if kind == CustomField.Kind.NUMBER and not all(_number(v) is not None for v in bounds):
            return _("the bounds must be numbers.")
        if kind == CustomField.Kind.DATE:
            for bound in bounds:
                _date(bound)
        return ""
    if kind == CustomField.Kind.NUMBER:
        return "" if _number(value) is not None else _("the value must be a number.")
    if kind == CustomField.Kind.BOOLEAN:
        return "" if isinstance(value, bool) else _("the value must be true or false.")
    if kind == CustomField.Kind.DATE:
        _date(value)
        return "" if value else _("give a date.")
    return "" if isinstance(value, str) and value.strip() else _("give a value.")


def _segment(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    value = condition.get("value")
    if isinstance(value, bool) or not isinstance(value, int) or value not in context.segments:
        return _("no such segment in this campaign.")
    return ""


def _mailing(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    return "" if _one_of(condition, context.mailings) else _("no such mailing in this campaign.")


def _form(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    return "" if _one_of(condition, context.forms) else _("no such form or petition in this campaign.")


def _event(condition: dict[str, Any], spec: FieldSpec, context: Context) -> str:
    return "" if _one_of(condition, context.events) else _("no such event in this campaign.")


def _one_of(condition: dict[str, Any], ids: set[int]) -> bool:
    value = condition.get("value")
    return not isinstance(value, bool) and isinstance(value, int) and value in ids


VALUE_CHECKS = {
    "strings": _strings,
    "choices": _choices,
    "choice": _choice,
    "consent": _consent,
    "date_range": _date_range,
    "polygon": _polygon,
    "circle": _circle,
    "custom": _custom,
    "segment": _segment,
    "mailing": _mailing,
    "form": _form,
    "event": _event,
}


def conditions(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Every condition of a (valid) node, depth first."""
    for key in ("all", "any"):
        if key in node:
            return [c for child in node[key] for c in conditions(child)]
    if "not" in node:
        return conditions(node["not"])
    return [node]
