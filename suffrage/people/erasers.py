"""What the people app holds about a person (erasure and the access report, see
privacy.erasure): the record, its channels, notes, consent ledger, tags, the import
rows that created or updated it, and the audit rows about it."""

from __future__ import annotations

from typing import Any, cast

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.core.models import AppendOnlyQuerySet, AuditLog, Membership
from suffrage.core.roles import Role
from suffrage.imports.models import ImportRow
from suffrage.people.models import (
    ConsentEvent,
    CustomField,
    DuplicateDismissal,
    LegalBasis,
    Note,
    Person,
    PersonEmail,
    PersonPhone,
    PostalAddress,
    SocialProfile,
    Source,
)
from suffrage.privacy.access import table
from suffrage.privacy.erasure import Eraser, Part, Targets

PERSON_FIELDS = (
    "civility",
    "first_names",
    "birth_name",
    "usage_name",
    "birth_date",
    "is_member",
    "is_volunteer",
    "is_donor",
    "support_level",
    "external_id",
)


def _audit_keys(targets: Targets) -> list[str]:
    """The people's ids and those of the records merged into them (their history)."""
    keys = {str(pk) for pk in targets.ids}
    for merged in Person.objects.filter(pk__in=targets.ids).values_list("merged_ids", flat=True):
        keys.update(str(pk) for pk in merged or [])
    return sorted(keys)


def _audit_rows(targets: Targets) -> models.QuerySet[AuditLog]:
    return AuditLog.objects.filter(
        campaign_id=targets.campaign_id, object_type="people.person", object_id__in=_audit_keys(targets)
    )


def _audit_blank(rows: models.QuerySet[Any]) -> int:
    """The log is append-only, the campaign's proof: the rows stay (who did what, when),
    without what they said about the person."""
    return cast(AppendOnlyQuerySet, rows).redact(object_repr="", changes={})


def _import_rows_detach(rows: models.QuerySet[Any]) -> int:
    """The verdict stays (an import's counts must add up), without the link or the messages."""
    return rows.update(person_id=None, messages=[])


def _source_label(code: str) -> str:
    return str(Source(code).label) if code in Source.values else code


def _field(name: str) -> models.Field[Any, Any]:
    field = Person._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _field_value(person: Person, name: str) -> Any:
    value = getattr(person, name)
    if _field(name).choices and value not in (None, ""):
        return getattr(person, f"get_{name}_display")()
    return value


def _actor_roles(person: Person, entries: list[AuditLog]) -> dict[int, str]:
    actors = {entry.actor_id for entry in entries if entry.actor_id}
    memberships = Membership.objects.filter(campaign_id=person.campaign_id, user_id__in=actors)
    return {user_id: str(Role(role).label) for user_id, role in memberships.values_list("user_id", "role")}


def report(person: Person) -> dict[str, Any]:
    record_source = {
        "source": _source_label(person.source),
        "detail": person.source_detail,
        "at": person.collected_at,
    }
    fields = []
    for name in PERSON_FIELDS:
        value = _field_value(person, name)
        if value in (None, "", False):
            continue
        stamp = person.field_sources.get(name)
        source = (
            {"source": _source_label(stamp.get("source", "")), "detail": stamp.get("detail", ""), "at": stamp.get("at")}
            if isinstance(stamp, dict)
            else record_source
        )
        label = _field(name).verbose_name
        fields.append({"field": str(label), "value": value, **source})
    consent_rows = [
        {"field": _("Current consent: %(channel)s") % {"channel": label}, "value": state}
        for _channel, label, state in person.consent_state()
    ]
    custom_labels = dict(CustomField.objects.filter(campaign_id=person.campaign_id).values_list("key", "label"))
    audit = list(
        AuditLog.objects.filter(
            campaign_id=person.campaign_id,
            object_type="people.person",
            object_id__in=[str(pk) for pk in (person.pk, *person.merged_ids)],
        ).order_by("at", "pk")
    )
    roles = _actor_roles(person, audit)
    return {
        "record": table(
            _("Your record"),
            {"field": _("Information"), "value": _("Value")},
            [
                {"field": _("Source"), "value": _source_label(person.source)},
                {"field": _("Source detail"), "value": person.source_detail},
                {"field": _("Collected on"), "value": person.collected_at},
                {"field": _("Legal basis"), "value": str(LegalBasis(person.legal_basis).label)},
                {"field": _("First-contact notice sent on"), "value": person.notice_sent_at},
                {"field": _("Record created on"), "value": person.created_at},
                *consent_rows,
            ],
        ),
        "fields": table(
            _("Information about you, and where each piece came from"),
            {
                "field": _("Information"),
                "value": _("Value"),
                "source": _("Source"),
                "detail": _("Detail"),
                "at": _("On"),
            },
            fields,
        ),
        "emails": table(
            _("Email addresses"),
            {
                "address": _("Address"),
                "status": _("Status"),
                "is_primary": _("Main address"),
                "source": _("Source"),
                "created_at": _("Added on"),
            },
            [
                {
                    "address": email.address,
                    "status": email.get_status_display(),
                    "is_primary": email.is_primary,
                    "source": _source_label(email.source),
                    "created_at": email.created_at,
                }
                for email in PersonEmail.objects.filter(campaign_id=person.campaign_id, person=person)
            ],
        ),
        "phones": table(
            _("Phone numbers"),
            {
                "number": _("Number"),
                "kind": _("Kind"),
                "sms_capable": _("SMS"),
                "suppressed": _("Never contacted"),
                "source": _("Source"),
                "created_at": _("Added on"),
            },
            [
                {
                    "number": phone.number,
                    "kind": phone.get_kind_display(),
                    "sms_capable": phone.sms_capable,
                    "suppressed": phone.suppressed,
                    "source": _source_label(phone.source),
                    "created_at": phone.created_at,
                }
                for phone in PersonPhone.objects.filter(campaign_id=person.campaign_id, person=person)
            ],
        ),
        "addresses": table(
            _("Postal addresses"),
            {
                "address": _("Address"),
                "country": _("Country"),
                "polling_station": _("Polling station (found from the address)"),
                "source": _("Source"),
            },
            [
                {
                    "address": str(address),
                    "country": address.country,
                    "polling_station": address.polling_station.name if address.polling_station else "",
                    "source": _source_label(address.source),
                }
                for address in PostalAddress.objects.filter(person=person).select_related("polling_station")
            ],
        ),
        "social_profiles": table(
            _("Social network profiles"),
            {"network": _("Network"), "handle": _("Handle"), "url": _("Address")},
            SocialProfile.objects.filter(person=person).order_by("pk").values("network", "handle", "url"),
        ),
        "tags": table(_("Tags"), {"name": _("Tag")}, person.tags.order_by("name").values("name")),
        "custom_fields": table(
            _("Other information"),
            {"field": _("Information"), "value": _("Value")},
            [{"field": custom_labels.get(key, key), "value": value} for key, value in sorted(person.custom.items())],
        ),
        "notes": table(
            _("Notes written by the team"),
            {"created_at": _("Date"), "text": _("Note")},
            Note.objects.filter(person=person).order_by("created_at", "pk").values("created_at", "text"),
        ),
        "consent": table(
            _("Consent given or withdrawn, with its proof"),
            {
                "at": _("Date"),
                "channel": _("Channel"),
                "purpose": _("Purpose"),
                "granted": _("Given"),
                "source": _("How"),
                "form": _("Form or document"),
                "wording": _("Wording shown"),
                "ip": _("IP address"),
            },
            [
                {
                    "at": event.at,
                    "channel": event.get_channel_display(),
                    "purpose": event.purpose,
                    "granted": event.granted,
                    "source": _source_label(event.source),
                    "form": event.form,
                    "wording": event.wording,
                    "ip": event.ip,
                }
                for event in ConsentEvent.objects.filter(campaign_id=person.campaign_id, person=person).order_by(
                    "at", "pk"
                )
            ],
        ),
        "audit": table(
            _("Who consulted, changed or exported your record"),
            {"at": _("Date"), "action": _("Action"), "by": _("By"), "fields": _("Information changed")},
            [
                {
                    "at": entry.at,
                    "action": entry.action,
                    "by": roles.get(entry.actor_id or 0) or entry.actor_email or _("the system (automatic)"),
                    "fields": sorted(entry.changes) if isinstance(entry.changes, dict) else [],
                }
                for entry in audit
            ],
        ),
    }


ERASERS = [
    Eraser(
        app_label="people",
        label=gettext_lazy("Contacts"),
        order=1000,  # last: it deletes the Person rows the other apps' rows point at
        report_order=0,
        report=report,
        parts=(
            Part(
                "people.Person_tags",
                gettext_lazy("Tags"),
                lambda t: Person.tags.through.objects.filter(person_id__in=t.ids, person__campaign_id=t.campaign_id),
            ),
            Part(
                "people.PersonEmail",
                gettext_lazy("Email addresses"),
                lambda t: PersonEmail.objects.filter(campaign_id=t.campaign_id, person_id__in=t.ids),
            ),
            Part(
                "people.PersonPhone",
                gettext_lazy("Phone numbers"),
                lambda t: PersonPhone.objects.filter(campaign_id=t.campaign_id, person_id__in=t.ids),
            ),
            Part(
                "people.PostalAddress",
                gettext_lazy("Postal addresses"),
                lambda t: PostalAddress.objects.filter(person__campaign_id=t.campaign_id, person_id__in=t.ids),
            ),
            Part(
                "people.SocialProfile",
                gettext_lazy("Social network profiles"),
                lambda t: SocialProfile.objects.filter(person__campaign_id=t.campaign_id, person_id__in=t.ids),
            ),
            Part(
                "people.Note",
                gettext_lazy("Notes"),
                lambda t: Note.objects.filter(person__campaign_id=t.campaign_id, person_id__in=t.ids),
            ),
            Part(
                "people.ConsentEvent",
                gettext_lazy("Consent ledger entries"),
                lambda t: ConsentEvent.objects.filter(campaign_id=t.campaign_id, person_id__in=t.ids),
            ),
            Part(
                "people.DuplicateDismissal",
                gettext_lazy("Duplicate reviews"),
                lambda t: DuplicateDismissal.objects.filter(
                    Q(first_id__in=t.ids) | Q(second_id__in=t.ids), campaign_id=t.campaign_id
                ),
            ),
            Part(
                "imports.ImportRow",
                gettext_lazy("Import rows that created or updated the record"),
                lambda t: ImportRow.objects.filter(batch__campaign_id=t.campaign_id, person_id__in=t.ids),
                erase=_import_rows_detach,
                kept=gettext_lazy(
                    "kept without the link to the person or its messages: each import must account for every row"
                ),
            ),
            Part(
                "core.AuditLog",
                gettext_lazy("Audit log entries about the person"),
                _audit_rows,
                erase=_audit_blank,
                kept=gettext_lazy(
                    "kept without their content (who acted, what and when only): the log is the campaign's proof "
                    "of accountability (GDPR art. 5(2))"
                ),
            ),
            Part(
                "people.Person",
                gettext_lazy("The record itself"),
                lambda t: Person.objects.filter(campaign_id=t.campaign_id, pk__in=t.ids),
            ),
        ),
    ),
]
