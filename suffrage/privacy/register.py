"""The record of processing activities (GDPR art. 30) and the impact-assessment
(DPIA) checklist, generated from what the campaign actually configured.

- `register_generate(campaign)` writes the register as Markdown, in the active
  language, from aggregate queries: who is concerned (counts), which data, on which
  legal bases, from which sources, who sees it, which processors, how long, how it is
  protected. It states facts the database knows; the officer completes the rest.
- `dpia_questions()` lists the CNIL's criteria and the main checks;
  `dpia_prefill(campaign)` answers what the configuration tells.
- `register_refresh` and `register_save` are the audited writes; `register_markdown`
  and `register_html` the exports.

A DPIA answer is stored as {"answer": "yes"|"no"|"unknown", "note": str, "prefilled":
bool}. A refresh replaces only answers that are still the generated ones (or empty):
once the officer changes an answer or its note, it is theirs and stays.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_stubs_ext import StrOrPromise

from suffrage.core.audit import audit_record
from suffrage.core.models import CalendarElection, Campaign, Membership, User
from suffrage.core.roles import Role
from suffrage.people.models import (
    INDIRECT_SOURCES,
    ConsentEvent,
    CustomField,
    LegalBasis,
    Note,
    Person,
    PersonEmail,
    PersonPhone,
    PostalAddress,
    SocialProfile,
    Source,
    Tag,
)
from suffrage.privacy.models import ProcessingRegister, RetentionPolicy, RightsRequest, Suppression

YES, NO, UNKNOWN = "yes", "no", "unknown"
ANSWERS = (YES, NO, UNKNOWN)
ANSWER_LABELS: dict[str, StrOrPromise] = {
    YES: gettext_lazy("Yes"),
    NO: gettext_lazy("No"),
    UNKNOWN: gettext_lazy("To assess"),
}
# From this many people (contacts, or electors on a roll) the prefill calls the
# processing "large scale". The GDPR sets no number: a heuristic, said in the note.
LARGE_SCALE = 10_000
NOTE_MAX = 2000


# --- processors ----------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessorInfo:
    provider: StrOrPromise
    location: StrOrPromise
    outside_eu: bool  # a transfer (or access) from outside the EU/EEA to document
    external: bool = True  # a processor under art. 28, needing a contract


PROCESSORS: dict[str, ProcessorInfo] = {
    "smtp": ProcessorInfo(
        gettext_lazy("the campaign's own mail server"),
        gettext_lazy("where the campaign's server is hosted: name the host if it is not the campaign itself"),
        outside_eu=False,
        external=False,
    ),
    "brevo": ProcessorInfo(gettext_lazy("Brevo (Sendinblue SAS)"), gettext_lazy("France (EU)"), outside_eu=False),
    "mailjet": ProcessorInfo(gettext_lazy("Mailjet SAS"), gettext_lazy("France (EU)"), outside_eu=False),
    "amazon_ses": ProcessorInfo(
        gettext_lazy("Amazon Web Services (Amazon SES)"),
        gettext_lazy(
            "a US company; an EU region can be chosen, but access from the United States remains possible: "
            "transfers need standard contractual clauses (SCCs) or the EU-US Data Privacy Framework"
        ),
        outside_eu=True,
    ),
    "postmark": ProcessorInfo(
        gettext_lazy("Postmark (ActiveCampaign)"),
        gettext_lazy("United States: a transfer outside the EU, to cover with standard contractual clauses (SCCs)"),
        outside_eu=True,
    ),
    "mailgun": ProcessorInfo(
        gettext_lazy("Mailgun (Sinch)"),
        gettext_lazy(
            "a US company with an EU region; in the US region, a transfer outside the EU to cover with "
            "standard contractual clauses (SCCs)"
        ),
        outside_eu=True,
    ),
    "sendgrid": ProcessorInfo(
        gettext_lazy("Twilio SendGrid"),
        gettext_lazy("United States: a transfer outside the EU, to cover with standard contractual clauses (SCCs)"),
        outside_eu=True,
    ),
    "sink": ProcessorInfo(
        gettext_lazy("none (test transport: messages are kept on this server, never sent)"),
        gettext_lazy("this server"),
        outside_eu=False,
        external=False,
    ),
}


def _processor(kind: str) -> ProcessorInfo:
    return PROCESSORS.get(
        kind,
        ProcessorInfo(kind, gettext_lazy("to check: where the provider processes the data"), outside_eu=False),
    )


def _region_note(kind: str, config: Mapping[str, Any]) -> str:
    """What the transport's own settings say about where data goes."""
    if kind == "amazon_ses":
        region = str(config.get("region") or "")
        if region:
            return _("region configured: %(region)s") % {"region": region}
    if kind == "mailgun":
        url = str(config.get("api_url") or "")
        if ".eu." in url:
            return _("EU region configured")
        return _("US region (the default) unless the EU address is configured")
    if kind == "smtp" and config.get("host"):
        return _("server: %(host)s") % {"host": config["host"]}
    return ""


# --- facts gathered with aggregate queries ------------------------------------------


@dataclass
class Facts:
    """What the database says about the campaign, in counts (no personal data)."""

    people: dict[str, int]
    sources: dict[str, tuple[int, int]]  # source -> (people, first-contact notices still owed)
    bases: dict[str, int]
    roles: dict[str, int]
    transports: list[tuple[str, str, dict[str, Any]]]  # (name, kind, settings)
    emails: int
    phones: int
    addresses: int
    geocoded: int
    social_profiles: int
    tags: int
    notes: int
    custom_fields: list[str]
    consent_events: int
    roll_versions: int
    roll_electors: int
    match_models: int
    roll_links: int
    imports: int
    mailings: int
    open_tracking: bool
    identity: str
    privacy_contact: str
    officers: list[str]
    elections: list[CalendarElection]
    retention: RetentionPolicy | None
    suppressions: int
    rights_requests: int
    rights_late: int
    segments: int


def _count_by(queryset: Any, field: str) -> dict[str, int]:
    return {row[field]: row["n"] for row in queryset.values(field).annotate(n=Count("pk")).order_by(field)}


def _minor_cutoff() -> datetime.date:
    today = timezone.localdate()
    try:
        return today.replace(year=today.year - 18)
    except ValueError:  # 29 February
        return today.replace(year=today.year - 18, day=28)


def gather(campaign: Campaign) -> Facts:
    from suffrage.imports.models import ImportBatch
    from suffrage.messaging.models import Mailing, MailSettings, TransportConfig
    from suffrage.roll.models import MatchModel, RollLink, RollVersion
    from suffrage.segments.models import Segment

    persons = Person.objects.filter(campaign=campaign)
    people = persons.aggregate(
        total=Count("pk"),
        members=Count("pk", filter=Q(is_member=True)),
        volunteers=Count("pk", filter=Q(is_volunteer=True)),
        donors=Count("pk", filter=Q(is_donor=True)),
        others=Count("pk", filter=Q(is_member=False, is_volunteer=False, is_donor=False)),
        support=Count("pk", filter=Q(support_level__isnull=False)),
        birth_dates=Count("pk", filter=Q(birth_date__isnull=False)),
        minors=Count("pk", filter=Q(birth_date__gt=_minor_cutoff())),
    )
    sources = {
        row["source"]: (row["n"], row["owed"])
        for row in persons.values("source")
        .annotate(n=Count("pk"), owed=Count("pk", filter=Q(notice_sent_at__isnull=True)))
        .order_by("source")
    }
    addresses = PostalAddress.objects.filter(person__campaign=campaign).aggregate(
        n=Count("pk"), geocoded=Count("pk", filter=Q(polling_station__isnull=False))
    )

    # The latest extract of each scope: older versions hold the same electors.
    latest: dict[str, int] = {}
    for scope, count in RollVersion.objects.filter(campaign=campaign).values_list("scope", "entry_count"):
        latest.setdefault(scope, count)  # ordered newest first (Meta.ordering)
    mail_settings = MailSettings.objects.filter(campaign=campaign).first()
    officers = [
        f"{membership.user} <{membership.user.email}>"
        for membership in Membership.objects.filter(campaign=campaign, role="dpo").select_related("user")
    ]
    rights = RightsRequest.objects.filter(campaign=campaign).aggregate(
        n=Count("pk"),
        late=Count(
            "pk",
            filter=Q(due_on__lt=timezone.localdate())
            & ~Q(status__in=[RightsRequest.Status.DONE, RightsRequest.Status.REFUSED]),
        ),
    )
    return Facts(
        people=people,
        sources=sources,
        bases=_count_by(persons, "legal_basis"),
        roles=_count_by(Membership.objects.filter(campaign=campaign), "role"),
        transports=[
            (t.name, t.kind, dict(t.settings or {}))
            for t in TransportConfig.objects.filter(campaign=campaign).order_by("name")
        ],
        emails=PersonEmail.objects.filter(campaign=campaign).count(),
        phones=PersonPhone.objects.filter(campaign=campaign).count(),
        addresses=addresses["n"],
        geocoded=addresses["geocoded"],
        social_profiles=SocialProfile.objects.filter(person__campaign=campaign).count(),
        tags=Tag.objects.filter(campaign=campaign).count(),
        notes=Note.objects.filter(person__campaign=campaign).count(),
        custom_fields=list(CustomField.objects.filter(campaign=campaign).values_list("label", flat=True)),
        consent_events=ConsentEvent.objects.filter(campaign=campaign).count(),
        roll_versions=len(latest),
        roll_electors=sum(latest.values()),
        match_models=MatchModel.objects.filter(campaign=campaign).count(),
        roll_links=RollLink.objects.filter(campaign=campaign, status__in=["linked", "accepted"]).count(),
        imports=ImportBatch.objects.filter(campaign=campaign).count(),
        mailings=Mailing.objects.filter(campaign=campaign).count(),
        open_tracking=bool(mail_settings and mail_settings.open_tracking),
        identity=mail_settings.identity.strip() if mail_settings else "",
        privacy_contact=mail_settings.privacy_contact if mail_settings else "",
        officers=officers,
        elections=list(CalendarElection.objects.filter(campaign=campaign)),
        retention=RetentionPolicy.objects.filter(campaign=campaign).first(),
        suppressions=Suppression.objects.filter(campaign=campaign).count(),
        rights_requests=rights["n"],
        rights_late=rights["late"],
        segments=Segment.objects.filter(campaign=campaign).count(),
    )


# --- retention rules (privacy.retention, written beside this module) ---------------


def _attr(rule: Any, *names: str) -> Any:
    for name in names:
        if isinstance(rule, Mapping) and name in rule:
            return rule[name]
        if hasattr(rule, name):
            return getattr(rule, name)
    return None


def _period_text(rule: Any) -> str:
    for name in ("period_label", "period_display", "describe_period", "period"):
        value = _attr(rule, name)
        if callable(value):
            value = value()
        if value not in (None, ""):
            return str(value)
    days = _attr(rule, "days", "months")
    return str(days) if days is not None else ""


def retention_lines(campaign: Campaign) -> list[tuple[str, str]] | None:
    """(label, period) of each retention rule with the campaign's settings, or None
    while privacy.retention is not available."""
    try:
        module = import_module("suffrage.privacy.retention")
        rules = module.DEFAULT_RULES
    except (ImportError, AttributeError):
        return None
    campaign_rules = getattr(module, "campaign_rules", None)
    rule_when = getattr(module, "rule_when", None)
    settings: Mapping[str, Any] = {}
    if callable(campaign_rules):
        try:
            settings = campaign_rules(campaign)
        except ValidationError:  # stored overrides no longer valid: the defaults, said so below
            settings = {}
    items: Iterable[tuple[Any, Any]] = (
        rules.items() if isinstance(rules, Mapping) else ((_attr(r, "key") or "", r) for r in rules)
    )
    lines = []
    for key, rule in items:
        label = _attr(rule, "label", "name", "title") or key
        values = settings.get(key) or _attr(rule, "defaults") or {}
        period = str(rule_when(rule, values)) if callable(rule_when) else _period_text(rule)
        if values.get("enabled") is False:
            period = _("not applied (switched off): %(period)s") % {"period": period}
        lines.append((str(label), period))
    return lines


# --- the document ----------------------------------------------------------------------

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>|~])")


def md(text: object) -> str:
    """A value typed by a user, made inert in Markdown (one line)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def _n(value: int) -> str:
    return number_format(value, force_grouping=True)


def _people(count: int) -> str:
    return ngettext("%(count)s person", "%(count)s people", count) % {"count": _n(count)}


ROLE_ACCESS: dict[str, StrOrPromise] = {
    Role.OWNER: gettext_lazy("everything, including exports and settings"),
    Role.MANAGER: gettext_lazy("people, segments, mailings and exports"),
    Role.ORGANISER: gettext_lazy("people and mailings they prepare"),
    Role.VOLUNTEER: gettext_lazy("only the people and doors assigned to them"),
    Role.ANALYST: gettext_lazy("aggregate reports"),
    "dpo": gettext_lazy("rights requests, retention and this register"),
}

BASIS_ARTICLES: dict[str, StrOrPromise] = {
    LegalBasis.CONSENT: gettext_lazy("GDPR art. 6(1)(a), and art. 9(2)(a) for political opinions"),
    LegalBasis.MEMBER: gettext_lazy("GDPR art. 9(2)(d): members, former members and regular contacts of the party"),
    LegalBasis.LEGITIMATE_INTEREST: gettext_lazy(
        "GDPR art. 6(1)(f): post and phone only, never email or SMS prospection"
    ),
}


def _purposes(facts: Facts) -> list[str]:
    lines = [_("Political communication with supporters and electors, and management of the campaign's contacts.")]
    sources = facts.sources
    if facts.people["members"]:
        lines.append(_("Relations with members."))
    if facts.people["volunteers"]:
        lines.append(_("Coordination of volunteers."))
    if facts.people["donors"]:
        lines.append(_("Relations with donors (donations go through the financial agent, electoral code L52-8)."))
    if facts.mailings or facts.transports:
        lines.append(
            _("Email communication (mailings), with delivery, bounce and unsubscribe handling.")
            + (" " + _("Opens are tracked.") if facts.open_tracking else "")
        )
    if Source.CANVASSING in sources or facts.geocoded:
        lines.append(_("Door-to-door canvassing, organised by polling station."))
    if Source.EVENT in sources:
        lines.append(_("Events: registrations and attendance."))
    if Source.WEB_FORM in sources:
        lines.append(_("Sign-ups through web forms."))
    if Source.SOCIAL in sources:
        lines.append(_("Contacts made on social networks (never exported to advertising audiences)."))
    if facts.roll_versions:
        lines.append(_("Use of the electoral roll for political communication only (electoral code L37)."))
    if facts.match_models:
        lines.append(_("Matching the campaign's contacts to the electoral roll."))
    if facts.segments:
        lines.append(
            _(
                "Selecting audiences by segments (never by surname, place of birth, nationality "
                "or inferred opinion, religion or origin)."
            )
        )
    lines.append(_("Handling data-protection rights requests and keeping the suppression list."))
    return lines


def register_generate(campaign: Campaign) -> str:
    """The register as Markdown, in the active language, from the campaign's configuration."""
    facts = gather(campaign)
    out: list[str] = []
    add = out.append
    todo = _("_to complete_")

    add("# " + _("Record of processing activities — %(campaign)s") % {"campaign": md(campaign.name)})
    add("")
    add(
        _(
            "_Generated by Suffrage on %(date)s from the campaign's configuration (GDPR art. 30(1)). "
            "The controller reviews and completes it._"
        )
        % {"date": date_format(timezone.localdate(), "DATE_FORMAT")}
    )

    add("")
    add("## " + _("1. Controller"))
    add("")
    add("- " + _("Campaign: %(name)s") % {"name": md(campaign.name)})
    if facts.identity:
        add("- " + _("Candidate or party (as in every message): %(identity)s") % {"identity": md(facts.identity)})
    else:
        add("- " + _("Candidate or party, with a postal address: %(todo)s") % {"todo": todo})
    contact = md(facts.privacy_contact) if facts.privacy_contact else todo
    add("- " + _("Data-protection contact: %(contact)s") % {"contact": contact})
    for officer in facts.officers:
        add("- " + _("Data-protection officer: %(officer)s") % {"officer": md(officer)})
    for election in facts.elections:
        add(
            "- "
            + _("Election: %(name)s, first round on %(date)s")
            % {"name": md(election.name), "date": date_format(election.first_round_on, "DATE_FORMAT")}
        )

    add("")
    add("## " + _("2. Purposes of the processing"))
    add("")
    out.extend(f"- {line}" for line in _purposes(facts))

    add("")
    add("## " + _("3. Categories of people concerned"))
    add("")
    people = facts.people
    add("- " + _("People in the contact base: %(count)s") % {"count": _n(people["total"])})
    if people["members"]:
        add("- " + _("Members: %(count)s") % {"count": _n(people["members"])})
    if people["volunteers"]:
        add("- " + _("Volunteers: %(count)s") % {"count": _n(people["volunteers"])})
    if people["donors"]:
        add("- " + _("Donors: %(count)s") % {"count": _n(people["donors"])})
    if people["others"]:
        add(
            "- "
            + _("Supporters, other contacts and prospects (neither member, volunteer nor donor): %(count)s")
            % {"count": _n(people["others"])}
        )
    if people["minors"]:
        add("- " + _("Of whom under 18 (by birth date): %(count)s") % {"count": _n(people["minors"])})
    if facts.roll_versions:
        add(
            "- "
            + _("Electors on the roll (latest extract of %(scopes)s scope(s)): %(count)s")
            % {"scopes": _n(facts.roll_versions), "count": _n(facts.roll_electors)}
        )

    add("")
    add("## " + _("4. Categories of personal data"))
    add("")
    identity = _("Identity: civility, first names, birth and usage names")
    if people["birth_dates"]:
        identity += _(", birth date (%(count)s)") % {"count": _people(people["birth_dates"])}
    add(f"- {identity}.")
    add(
        "- "
        + _("Contact details: %(emails)s email addresses, %(phones)s phone numbers")
        % {"emails": _n(facts.emails), "phones": _n(facts.phones)}
    )
    if facts.addresses:
        add(
            "- "
            + _("Postal addresses: %(count)s, of which %(geocoded)s located in their polling station")
            % {"count": _n(facts.addresses), "geocoded": _n(facts.geocoded)}
        )
    if facts.social_profiles:
        add("- " + _("Social network profiles: %(count)s") % {"count": _n(facts.social_profiles)})
    add("- " + _("Roles in the campaign: member, volunteer, donor; provenance (source, legal basis, date)."))
    if facts.custom_fields:
        add("- " + _("Custom fields: %(labels)s") % {"labels": ", ".join(md(label) for label in facts.custom_fields)})
    if facts.tags:
        add("- " + _("Tags: %(count)s") % {"count": _n(facts.tags)})
    if facts.notes:
        add(
            "- "
            + _("Free-text notes: %(count)s (must never record opinions the person did not state)")
            % {"count": _n(facts.notes)}
        )
    add("- " + _("Consent records (ledger with proof): %(count)s") % {"count": _n(facts.consent_events)})
    if people["support"]:
        add(
            "- **"
            + _(
                "Support level, as the person said it: special-category data (political opinion), "
                "GDPR art. 9(2)(d) for members and regular contacts, explicit consent otherwise: %(count)s"
            )
            % {"count": _people(people["support"])}
            + "**"
        )
    if facts.mailings:
        add(
            "- "
            + _("Email activity: deliveries, bounces, complaints, clicks%(opens)s")
            % {"opens": _(", opens") if facts.open_tracking else ""}
        )
    if facts.roll_versions:
        add(
            "- "
            + _(
                "Electoral roll data: elector number, names, sex, birth date and place, nationality "
                "(EU complementary lists), address, polling station"
            )
        )
    if facts.roll_links:
        add("- " + _("Links between contacts and the roll: %(count)s") % {"count": _n(facts.roll_links)})

    add("")
    add("## " + _("5. Legal bases"))
    add("")
    for basis, label in LegalBasis.choices:
        count = facts.bases.get(basis, 0)
        if count:
            add(f"- {label}: {_people(count)} — {BASIS_ARTICLES.get(basis, '')}")
    for basis, count in facts.bases.items():
        if basis not in LegalBasis.values and count:
            add(f"- {md(basis)}: {_people(count)}")
    if facts.roll_versions:
        add("- " + _("Electoral roll: communicated to the candidate under electoral code L37, political use only."))
    if not facts.bases:
        add("- " + _("No one in the base yet."))

    add("")
    add("## " + _("6. Sources of the data"))
    add("")
    for source, label in Source.choices:
        if source not in facts.sources:
            continue
        count, owed = facts.sources[source]
        line = f"- {label}: {_people(count)}"
        if source in INDIRECT_SOURCES:
            line += " — " + _("not collected from the person: information owed at first contact (GDPR art. 14)")
            if owed:
                line += " " + _("(still owed to %(count)s)") % {"count": _people(owed)}
        add(line)
    if facts.imports:
        add("- " + _("File imports recorded: %(count)s") % {"count": _n(facts.imports)})
    if not facts.sources:
        add("- " + _("No one in the base yet."))

    add("")
    add("## " + _("7. Recipients"))
    add("")
    add(_("Members of the campaign's team, by role:"))
    add("")
    for role, label in Role.choices:
        count = facts.roles.get(role, 0)
        if count:
            access = ROLE_ACCESS.get(role, "")
            add(f"- {label}: {_n(count)}" + (f" — {access}" if access else ""))
    add("- " + _("The processors listed below, for what they do on the campaign's behalf."))
    add("- " + _("No other recipient; no advertising platform. %(todo)s") % {"todo": todo})

    add("")
    add("## " + _("8. Processors and transfers outside the EU"))
    add("")
    add("- " + _("Hosting of Suffrage: %(todo)s") % {"todo": todo})
    for name, kind, config in facts.transports:
        info = _processor(kind)
        detail = "; ".join(part for part in (str(info.location), _region_note(kind, config)) if part)
        add(
            "- "
            + _("Email transport “%(name)s”: %(provider)s — %(detail)s")
            % {"name": md(name), "provider": info.provider, "detail": detail}
        )
    if not facts.transports:
        add("- " + _("No email transport configured."))

    add("")
    add("## " + _("9. Retention periods"))
    add("")
    rules = retention_lines(campaign)
    if rules is None:
        add("- " + _("The retention rules are not available yet: %(todo)s") % {"todo": todo})
    else:
        for rule_label, period in rules:
            add(f"- {md(rule_label)}: {md(period) if period else todo}")
    policy = facts.retention
    if policy is not None and policy.enabled:
        add("- " + _("Applied automatically by Suffrage."))
    else:
        add("- " + _("Not applied automatically: the officer applies them by hand."))
    if not facts.elections:
        add("- " + _("No election date is set: periods tied to the election cannot be computed."))

    add("")
    add("## " + _("10. Security measures"))
    add("")
    if campaign.require_mfa:
        add("- " + _("Two-factor authentication required for owners and managers."))
    else:
        add("- " + _("Two-factor authentication is **not** required for owners and managers: turn it on."))
    add("- " + _("Access by role; each campaign's data is isolated from every other campaign's."))
    add("- " + _("Provider keys, passwords and signing keys encrypted in the database."))
    add("- " + _("Append-only audit log of changes, exports and erasures."))
    add(
        "- "
        + _("Suppression list kept as keyed hashes (the address cannot be read back): %(count)s entries")
        % {"count": _n(facts.suppressions)}
    )
    add("- " + _("HTTPS only, with secure cookies."))
    add("- " + _("Backups and server hardening: %(todo)s") % {"todo": todo})
    add("")
    return "\n".join(out)


# --- the impact assessment -------------------------------------------------------------


@dataclass(frozen=True)
class Question:
    key: str
    question: StrOrPromise
    help: StrOrPromise
    criterion: bool = False  # one of the CNIL's criteria: two or more → a DPIA is required


def dpia_questions() -> list[Question]:
    return [
        Question(
            "special_category",
            gettext_lazy("Are special-category data processed (political opinions, health…)?"),
            gettext_lazy("A campaign's file reveals political opinions; a recorded support level certainly does."),
            criterion=True,
        ),
        Question(
            "large_scale",
            gettext_lazy("Is the processing large scale?"),
            gettext_lazy("Number of people, a whole commune's roll, the area covered, how long."),
            criterion=True,
        ),
        Question(
            "matching",
            gettext_lazy("Are datasets matched or combined?"),
            gettext_lazy("Matching contacts to the electoral roll, merging imported files."),
            criterion=True,
        ),
        Question(
            "monitoring",
            gettext_lazy("Is there systematic monitoring of people?"),
            gettext_lazy("Open and click tracking in emails, following people's activity over time."),
            criterion=True,
        ),
        Question(
            "scoring",
            gettext_lazy("Are people evaluated or scored?"),
            gettext_lazy("Individual scores or profiles; rankings of polling stations use public results only."),
            criterion=True,
        ),
        Question(
            "vulnerable",
            gettext_lazy("Are vulnerable people concerned?"),
            gettext_lazy("Minors, people under guardianship, employees of the candidate…"),
            criterion=True,
        ),
        Question(
            "innovative",
            gettext_lazy("Is an innovative technology used?"),
            gettext_lazy("Probabilistic record linkage, new collection tools."),
            criterion=True,
        ),
        Question(
            "transfers",
            gettext_lazy("Are data transferred outside the EU?"),
            gettext_lazy("Providers established in, or reachable from, a country outside the EU/EEA."),
        ),
        Question(
            "dpia_required",
            gettext_lazy("Is a data-protection impact assessment required?"),
            gettext_lazy("The CNIL requires one when two or more of the criteria above are met."),
        ),
        Question(
            "minimisation",
            gettext_lazy("Are only the data needed for each purpose collected?"),
            gettext_lazy("Review custom fields, notes and imported columns; drop what is not used."),
        ),
        Question(
            "retention_set",
            gettext_lazy("Are retention periods set and applied?"),
            gettext_lazy("Roll data until the end of the election, prospects 2 months, audit log 6–12 months."),
        ),
        Question(
            "rights_procedure",
            gettext_lazy("Is there a procedure for people's rights?"),
            gettext_lazy("A contact address, answers within one month, requests logged."),
        ),
        Question(
            "security",
            gettext_lazy("Are the security measures adequate?"),
            gettext_lazy("Two-factor authentication, roles, backups, hosting, breach notification within 72 hours."),
        ),
        Question(
            "processor_contracts",
            gettext_lazy("Is there a contract (GDPR art. 28) with each processor?"),
            gettext_lazy("Email providers, the host, any service that handles the data for the campaign."),
        ),
    ]


def _answer(answer: str, note: str) -> dict[str, Any]:
    return {"answer": answer, "note": note, "prefilled": True}


def dpia_prefill(campaign: Campaign) -> dict[str, dict[str, Any]]:
    """Answers the configuration gives; the rest is left "to assess" for the officer."""
    facts = gather(campaign)
    people = facts.people
    out: dict[str, dict[str, Any]] = {}

    if people["support"] or people["members"]:
        out["special_category"] = _answer(
            YES,
            _("Support level recorded for %(support)s; members: %(members)s (political opinions, GDPR art. 9).")
            % {"support": _people(people["support"]), "members": _n(people["members"])},
        )
    else:
        out["special_category"] = _answer(
            UNKNOWN, _("No support level recorded; a campaign's contact file may still reveal political opinions.")
        )

    largest = max(people["total"], facts.roll_electors)
    note = _("%(people)s in the base, %(electors)s electors on the roll.") % {
        "people": _people(people["total"]),
        "electors": _n(facts.roll_electors),
    }
    out["large_scale"] = _answer(YES if largest >= LARGE_SCALE or facts.roll_versions else UNKNOWN, note)

    if facts.match_models:
        out["matching"] = _answer(
            YES,
            _("Probabilistic matching of supporters to the roll (%(models)s model(s), %(links)s links).")
            % {"models": _n(facts.match_models), "links": _n(facts.roll_links)},
        )
    elif facts.imports:
        out["matching"] = _answer(
            UNKNOWN, _("%(count)s file imports merged into the base.") % {"count": _n(facts.imports)}
        )
    else:
        out["matching"] = _answer(NO, _("No roll matching, no file import."))

    if facts.open_tracking:
        out["monitoring"] = _answer(YES, _("Email opens are tracked (invisible image), and clicks counted."))
    elif facts.mailings:
        out["monitoring"] = _answer(NO, _("Open tracking is off; clicks on links are counted per mailing."))
    else:
        out["monitoring"] = _answer(NO, _("No mailing sent; open tracking is off."))

    out["scoring"] = _answer(
        NO,
        _("Suffrage computes no score of people; polling stations are ranked from public results only."),
    )

    if people["minors"]:
        out["vulnerable"] = _answer(
            YES, _("%(count)s under 18 by their birth date.") % {"count": _people(people["minors"])}
        )
    else:
        out["vulnerable"] = _answer(UNKNOWN, _("No one under 18 by birth date; check other vulnerable groups."))

    out["innovative"] = (
        _answer(UNKNOWN, _("Probabilistic record linkage (Splink) matches contacts to the roll."))
        if facts.match_models
        else _answer(NO, _("No innovative technology in use."))
    )

    abroad = sorted(
        {str(_processor(kind).provider) for _name, kind, _config in facts.transports if _processor(kind).outside_eu}
    )
    out["transfers"] = (
        _answer(
            YES,
            _("Providers outside the EU or US-owned: %(providers)s. Standard contractual clauses (SCCs) needed.")
            % {"providers": ", ".join(abroad)},
        )
        if abroad
        else _answer(NO, _("No email provider outside the EU is configured; check the host."))
    )

    criteria = [q.key for q in dpia_questions() if q.criterion and out.get(q.key, {}).get("answer") == YES]
    out["dpia_required"] = _answer(
        YES if len(criteria) >= 2 else UNKNOWN,
        ngettext("%(count)s criterion met.", "%(count)s criteria met.", len(criteria)) % {"count": len(criteria)},
    )

    out["minimisation"] = _answer(
        UNKNOWN,
        _("%(fields)s custom fields, %(notes)s notes to review.")
        % {"fields": _n(len(facts.custom_fields)), "notes": _n(facts.notes)},
    )

    policy = facts.retention
    if policy is not None and policy.enabled:
        out["retention_set"] = _answer(YES, _("Retention rules are applied automatically."))
    elif policy is not None:
        out["retention_set"] = _answer(UNKNOWN, _("Retention rules are set but not applied automatically."))
    else:
        out["retention_set"] = _answer(NO, _("The default retention rules have not been reviewed."))

    if facts.privacy_contact:
        out["rights_procedure"] = _answer(
            YES,
            _("Requests go to %(contact)s; %(count)s logged, %(late)s late.")
            % {"contact": facts.privacy_contact, "count": _n(facts.rights_requests), "late": _n(facts.rights_late)},
        )
    else:
        out["rights_procedure"] = _answer(NO, _("No address for privacy requests is set in the email settings."))

    out["security"] = (
        _answer(YES, _("Two-factor authentication required for owners and managers; secrets encrypted; audit log."))
        if campaign.require_mfa
        else _answer(NO, _("Two-factor authentication is not required for owners and managers."))
    )

    external = sorted(
        {str(_processor(kind).provider) for _name, kind, _config in facts.transports if _processor(kind).external}
    )
    out["processor_contracts"] = _answer(
        UNKNOWN,
        (_("A contract is needed with: %(providers)s, and the host.") % {"providers": ", ".join(external)})
        if external
        else _("No external email provider; a contract is needed with the host."),
    )
    return out


# --- writes ----------------------------------------------------------------------------


def _is_officers(entry: Any) -> bool:
    """An answer the officer gave: not generated, not empty."""
    if not isinstance(entry, Mapping) or entry.get("prefilled"):
        return False
    return entry.get("answer", UNKNOWN) != UNKNOWN or bool(str(entry.get("note", "")).strip())


def register_get(campaign: Campaign) -> ProcessingRegister | None:
    return ProcessingRegister.objects.filter(campaign=campaign).first()


@transaction.atomic
def register_refresh(*, campaign: Campaign, actor: User | None) -> ProcessingRegister:
    """Regenerate the document (replacing the officer's edits to it) and pre-fill the
    DPIA answers the officer has not given."""
    register, _created = ProcessingRegister.objects.select_for_update().get_or_create(campaign=campaign)
    replaced_edits = bool(
        register.edited_at and (register.generated_at is None or register.edited_at > register.generated_at)
    )
    prefill = dpia_prefill(campaign)
    dpia = dict(register.dpia or {})
    refreshed = []
    for key, entry in prefill.items():
        if not _is_officers(dpia.get(key)):
            dpia[key] = entry
            refreshed.append(key)
    register.document = register_generate(campaign)
    register.dpia = dpia
    register.generated_at = timezone.now()
    register.save(update_fields=["document", "dpia", "generated_at"])
    audit_record(
        action="privacy.register_refresh",
        campaign=campaign,
        obj=register,
        changes={"replaced_edits": replaced_edits, "prefilled": refreshed},
        actor=actor,
    )
    return register


def _clean_dpia(dpia: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    keys = {q.key for q in dpia_questions()}
    cleaned: dict[str, dict[str, str]] = {}
    for key, entry in dpia.items():
        if key not in keys:
            raise ValidationError(_("Unknown question: %(key)s.") % {"key": key})
        answer = str(entry.get("answer") or UNKNOWN) if isinstance(entry, Mapping) else ""
        if answer not in ANSWERS:
            raise ValidationError(_("“%(answer)s” is not an answer: yes, no or to assess.") % {"answer": answer})
        note = str(entry.get("note") or "").strip()
        if len(note) > NOTE_MAX:
            raise ValidationError(_("A note is limited to %(max)s characters.") % {"max": NOTE_MAX})
        cleaned[key] = {"answer": answer, "note": note}
    return cleaned


@transaction.atomic
def register_save(
    *, register: ProcessingRegister, document: str, dpia: Mapping[str, Any], actor: User | None
) -> ProcessingRegister:
    """Keep the officer's document and answers. An answer left as generated stays
    marked so (a later refresh may update it); a changed one becomes the officer's."""
    cleaned = _clean_dpia(dpia)
    previous = dict(register.dpia or {})
    merged: dict[str, Any] = dict(previous)
    changed = []
    for key, entry in cleaned.items():
        old = previous.get(key)
        same = (
            isinstance(old, Mapping) and old.get("answer") == entry["answer"] and old.get("note", "") == entry["note"]
        )
        merged[key] = {**entry, "prefilled": bool(same and isinstance(old, Mapping) and old.get("prefilled"))}
        if not same:
            changed.append(key)
    document = document.replace("\r\n", "\n")
    document_changed = document != register.document
    register.document = document
    register.dpia = merged
    register.edited_at = timezone.now()
    register.edited_by = actor
    register.save()
    audit_record(
        action="privacy.register_save",
        campaign=register.campaign,
        obj=register,
        changes={"document": document_changed, "dpia": {key: merged[key]["answer"] for key in changed}},
        actor=actor,
    )
    return register


# --- exports ---------------------------------------------------------------------------


def dpia_rows(register: ProcessingRegister) -> list[dict[str, Any]]:
    """Each question with its answer, for pages and exports."""
    rows = []
    for question in dpia_questions():
        entry = (register.dpia or {}).get(question.key) or {}
        answer = str(entry.get("answer") or UNKNOWN)
        if answer not in ANSWERS:
            answer = UNKNOWN
        rows.append(
            {
                "key": question.key,
                "question": question.question,
                "help": question.help,
                "answer": answer,
                "answer_label": ANSWER_LABELS[answer],
                "note": str(entry.get("note") or ""),
                "prefilled": bool(entry.get("prefilled")),
            }
        )
    return rows


def register_markdown(register: ProcessingRegister) -> str:
    """The document, followed by the impact-assessment checklist."""
    lines = [register.document.rstrip(), "", "## " + _("Impact assessment checklist (DPIA)"), ""]
    for row in dpia_rows(register):
        line = f"- **{row['question']}** {row['answer_label']}"
        if row["note"]:
            line += f" — {md(row['note'])}"
        lines.append(line)
    lines.append("")
    return "\n".join(lines)


def register_html(register: ProcessingRegister) -> str:
    """A printable page: the document rendered safely (raw HTML is escaped) and the checklist."""
    from suffrage.messaging.rendering import markdown_to_html

    return render_to_string(
        "privacy/register_document.html",
        {
            "campaign": register.campaign,
            "register": register,
            "body": mark_safe(markdown_to_html(register.document)),  # mistune with escape=True
            "dpia": dpia_rows(register),
        },
    )
