"""Retention: how long each kind of data is kept, tied to the campaign's election dates.

Each rule of `DEFAULT_RULES` selects some data (people, roll extracts, audit rows,
support levels) and says when it falls due: at the end of the election, or a number
of months after an event (the first message sent to a prospect, a regular contact's
last exchange, the writing of an audit row). A campaign overrides the French
defaults in `RetentionPolicy.rules`, e.g. ``{"prospects": {"months": 1}}``,
checked by `rules_validate`.

- `retention_preview(campaign)` says, per rule, what is due now and what falls due
  next and when, with the legal reason. Aggregate queries only: a campaign can hold
  a million people.
- `retention_apply(campaign)` removes what is due, in chunks (each chunk commits,
  so a run cut short resumes on the next one), and leaves one audit row per rule
  with counts only. People go through `privacy.erasure.people_erase`, the same path
  as an erasure request; roll extracts and audit rows are deleted here.
- `manage.py privacy_tick` runs it once a day for campaigns that switched it on.

People fall under exactly one of three rules, so none is forgotten:
- regular contacts: members, people whose legal basis is "member or regular
  contact", and anyone who consented on a channel (a consent recorded in the ledger;
  a legal basis "consent" with no recorded consent proves nothing and does not count);
- prospects: everyone else collected indirectly (file import, social network, roll);
- occasional contacts: everyone else collected directly (form, event, door-to-door,
  by hand).
"""

from __future__ import annotations

import calendar
import datetime
import logging
import zoneinfo
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import Exists, Max, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_stubs_ext import StrOrPromise
from django_tasks import task

from suffrage.core.audit import audit_record, diff
from suffrage.core.jobs import JobProgress, job_create, job_enqueue, job_run
from suffrage.core.models import AppendOnlyQuerySet, AuditLog, CalendarElection, Campaign, Job, User
from suffrage.people.models import INDIRECT_SOURCES, ConsentEvent, CustomField, LegalBasis, Person
from suffrage.privacy.models import RetentionPolicy

logger = logging.getLogger(__name__)

# Rows removed per transaction: small enough to keep locks short (SQLite has one
# writer), large enough that a million rows take a few hundred round trips.
CHUNK = 2000

ENABLED, MONTHS, GRACE_DAYS = "enabled", "months", "grace_days"
Counts = dict[str, int]


@dataclass(frozen=True)
class Rule:
    """One retention rule: what it selects, when it falls due, and why (the law)."""

    key: str
    label: StrOrPromise
    selects: StrOrPromise  # what the rule removes, for the page and the documentation
    when: StrOrPromise  # when it falls due, in words ({months} and {days} filled in)
    reason: StrOrPromise  # the legal reason, shown beside every count
    defaults: Mapping[str, int | bool]
    # Allowed range of each number, and why (shown when a value is outside it).
    bounds: Mapping[str, tuple[int, int, StrOrPromise]] = field(default_factory=dict)


# Days after the last round before election-bound data falls due ("the end of the
# election" = the day after the last round + this grace period). 10 days, because:
# - results can be contested for a few more days (municipal: 5 days, electoral code
#   R119; legislative: 10 days after the proclamation, LO180 — check): the campaign
#   may need its files to contest or defend;
# - a second round not yet entered in the calendar (its date is known only once the
#   first round is over) comes 7 days after the first: the grace period covers it.
# The CNIL asks for deletion "at the end of the election", not on the evening of the
# vote; a campaign can bring it down to 0.
DEFAULT_GRACE_DAYS = 10
GRACE_BOUNDS: tuple[int, int, StrOrPromise] = (
    0,
    60,
    gettext_lazy("Election data is deleted at the end of the election: at most 60 days after the last round."),
)

DEFAULT_RULES: dict[str, Rule] = {
    rule.key: rule
    for rule in (
        Rule(
            key="roll",
            label=gettext_lazy("Electoral roll extracts"),
            selects=gettext_lazy(
                "Each roll extract (its entries, the links found between people and the roll, the matching "
                "models and the imported file) of an election that is over."
            ),
            when=gettext_lazy("At the end of the election it was obtained for: {days} days after its last round."),
            reason=gettext_lazy(
                "A candidate obtains the electoral roll for one election (electoral code L37); the CNIL requires "
                "roll-derived data to be deleted at the end of that election."
            ),
            defaults={ENABLED: True, GRACE_DAYS: DEFAULT_GRACE_DAYS},
            bounds={GRACE_DAYS: GRACE_BOUNDS},
        ),
        Rule(
            key="prospects",
            label=gettext_lazy("Prospects"),
            selects=gettext_lazy(
                "People collected indirectly (file import, social network, roll) who are neither members nor "
                "regular contacts and never consented."
            ),
            when=gettext_lazy(
                "{months} months after the first message sent to them, and at the latest at the end of the "
                "election they were collected for ({days} days after its last round)."
            ),
            reason=gettext_lazy(
                "The CNIL allows a single message to a prospect; without an answer (a consent), their data is "
                "kept at most 2 months after it, and never after the election."
            ),
            # 2 months: the CNIL's maximum after the single message. Lower is allowed.
            defaults={ENABLED: True, MONTHS: 2, GRACE_DAYS: DEFAULT_GRACE_DAYS},
            bounds={
                MONTHS: (1, 2, gettext_lazy("The CNIL allows at most 2 months after the single message.")),
                GRACE_DAYS: GRACE_BOUNDS,
            },
        ),
        Rule(
            key="occasional",
            label=gettext_lazy("Occasional contacts"),
            selects=gettext_lazy(
                "People who gave their details themselves (web form, event, door-to-door, entered by hand) "
                "without consenting to hear from the campaign again, and who are not members."
            ),
            when=gettext_lazy(
                "At the end of the election they were collected for: {days} days after the last round of the "
                "campaign's last election."
            ),
            reason=gettext_lazy(
                "Data collected for an election campaign is kept until the end of the election; only a consent "
                "justifies keeping it afterwards (CNIL)."
            ),
            defaults={ENABLED: True, GRACE_DAYS: DEFAULT_GRACE_DAYS},
            bounds={GRACE_DAYS: GRACE_BOUNDS},
        ),
        Rule(
            key="regular",
            label=gettext_lazy("Members and regular contacts"),
            selects=gettext_lazy(
                "Members, regular contacts and people who consented, once exchanges with them have stopped."
            ),
            when=gettext_lazy(
                "{months} months after the last exchange: last message sent, last consent given or withdrawn, "
                "last change to the record."
            ),
            reason=gettext_lazy(
                "Members and regular contacts may be kept while exchanges continue (GDPR art. 9(2)(d), CNIL); "
                "after three years of silence the relationship is over, the CNIL's usual limit after the last "
                "contact."
            ),
            # 36 months: the CNIL's reference period after the last contact (its
            # guidance on prospection and contact files); long enough to span the
            # gap between two elections of different kinds, short of a full term.
            defaults={ENABLED: True, MONTHS: 36},
            bounds={
                MONTHS: (
                    1,
                    72,
                    gettext_lazy("At most 72 months (one full term) after the last exchange."),
                )
            },
        ),
        Rule(
            key="sensitive",
            label=gettext_lazy("Support levels and sensitive fields"),
            selects=gettext_lazy(
                "The support level each person stated and the values of custom fields marked sensitive "
                "(the people themselves stay)."
            ),
            when=gettext_lazy("At the end of the campaign's last election: {days} days after its last round."),
            reason=gettext_lazy(
                "A support level reveals a political opinion, special-category data (GDPR art. 9); it serves one "
                "election and is purged after it."
            ),
            defaults={ENABLED: True, GRACE_DAYS: DEFAULT_GRACE_DAYS},
            bounds={GRACE_DAYS: GRACE_BOUNDS},
        ),
        Rule(
            key="audit",
            label=gettext_lazy("Audit log"),
            selects=gettext_lazy("Rows of the campaign's audit log (who did what, when)."),
            when=gettext_lazy("{months} months after they were written."),
            reason=gettext_lazy(
                "The CNIL recommends keeping such logs 6 months to a year: long enough to investigate an "
                "incident; they hold personal data, so no longer."
            ),
            # 12 months: the top of the CNIL's 6-12 month range, for incidents found late.
            defaults={ENABLED: True, MONTHS: 12},
            bounds={MONTHS: (6, 12, gettext_lazy("The CNIL recommends keeping logs 6 to 12 months."))},
        ),
    )
}

# What each count means, for sentences like "41,200 roll entries and 3,100 people".
COUNT_KEYS = ("people", "roll_versions", "roll_entries", "roll_links", "roll_files", "audit_rows", "values_cleared")
# The counts that measure a job's progress (one step per row handled).
STEP_KEYS = ("people", "roll_entries", "values_cleared", "audit_rows")


def _count_phrase(key: str, count: int) -> str:
    # Literal calls, so that makemessages finds every string.
    if key == "people":
        phrase = ngettext("%(count)s person", "%(count)s people", count)
    elif key == "roll_versions":
        phrase = ngettext("%(count)s roll extract", "%(count)s roll extracts", count)
    elif key == "roll_entries":
        phrase = ngettext("%(count)s roll entry", "%(count)s roll entries", count)
    elif key == "roll_links":
        phrase = ngettext("%(count)s link to the roll", "%(count)s links to the roll", count)
    elif key == "roll_files":
        phrase = ngettext("%(count)s imported roll file", "%(count)s imported roll files", count)
    elif key == "audit_rows":
        phrase = ngettext("%(count)s audit log row", "%(count)s audit log rows", count)
    else:
        phrase = ngettext("%(count)s support level", "%(count)s support levels", count)
    return phrase % {"count": number_format(count, force_grouping=True)}


def describe_counts(counts: Mapping[str, int]) -> str:
    """ "41,200 roll entries and 3,100 people" (only the non-zero counts)."""
    parts = [_count_phrase(key, value) for key, value in counts.items() if value]
    return str(get_text_list(parts, _("and"))) if parts else _("nothing")


# --- Rules and their settings ---------------------------------------------------------


def rules_validate(raw: Any) -> dict[str, dict[str, int | bool]]:
    """Check overrides as stored in RetentionPolicy.rules; return them cleaned.

    Raises ValidationError with one clear message per problem."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ValidationError(
            _('Retention rules must be an object such as {"prospects": {"months": 2, "enabled": true}}.')
        )
    errors: list[str] = []
    cleaned: dict[str, dict[str, int | bool]] = {}
    for key, settings in raw.items():
        rule = DEFAULT_RULES.get(key)
        if rule is None:
            errors.append(
                _("Unknown retention rule “%(key)s”. The rules are: %(known)s.")
                % {"key": key, "known": ", ".join(DEFAULT_RULES)}
            )
            continue
        if not isinstance(settings, dict):
            errors.append(_("The rule “%(key)s” takes an object of settings.") % {"key": key})
            continue
        cleaned[key] = {}
        for name, value in settings.items():
            if name not in rule.defaults:
                errors.append(
                    _("The rule “%(key)s” has no setting “%(name)s”; it takes: %(known)s.")
                    % {"key": key, "name": name, "known": ", ".join(rule.defaults)}
                )
            elif name == ENABLED:
                if not isinstance(value, bool):
                    errors.append(_("“%(key)s”: “enabled” must be true or false.") % {"key": key})
                else:
                    cleaned[key][name] = value
            else:
                low, high, why = rule.bounds.get(name, (0, 1000, ""))
                if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                    errors.append(
                        _("“%(key)s”: “%(name)s” must be a whole number from %(low)s to %(high)s. %(why)s")
                        % {"key": key, "name": name, "low": low, "high": high, "why": why}
                    )
                else:
                    cleaned[key][name] = value
    if errors:
        raise ValidationError(errors)
    return cleaned


def rules_effective(overrides: Mapping[str, Mapping[str, int | bool]] | None) -> dict[str, dict[str, int | bool]]:
    """The defaults with the campaign's overrides applied, for every rule."""
    overrides = overrides or {}
    return {key: {**rule.defaults, **overrides.get(key, {})} for key, rule in DEFAULT_RULES.items()}


def campaign_policy(campaign: Campaign) -> RetentionPolicy | None:
    return RetentionPolicy.objects.filter(campaign=campaign).first()


def campaign_rules(campaign: Campaign) -> dict[str, dict[str, int | bool]]:
    """The campaign's effective rules. Stored overrides that no longer validate raise
    ValidationError: better to stop than to apply rules nobody chose."""
    policy = campaign_policy(campaign)
    return rules_effective(rules_validate(policy.rules if policy else {}))


@transaction.atomic
def retention_policy_update(*, campaign: Campaign, rules: Any, enabled: bool, actor: User | None) -> RetentionPolicy:
    """Save the campaign's overrides (only what differs from the defaults) and whether
    the daily job applies them."""
    cleaned = rules_validate(rules)
    overrides = {
        key: changed
        for key, settings in cleaned.items()
        if (changed := {name: value for name, value in settings.items() if DEFAULT_RULES[key].defaults[name] != value})
    }
    policy, _created = RetentionPolicy.objects.select_for_update().get_or_create(campaign=campaign)
    before = {"rules": policy.rules, "enabled": policy.enabled}
    policy.rules, policy.enabled = overrides, enabled
    policy.save(update_fields=["rules", "enabled"])
    changes = diff(before, {"rules": overrides, "enabled": enabled})
    if changes:
        audit_record(action="retention.update", campaign=campaign, obj=policy, changes=changes, actor=actor)
    return policy


def rule_when(rule: Rule, settings: Mapping[str, int | bool]) -> str:
    """The rule's "when", with the campaign's numbers."""
    return str(rule.when).format(months=settings.get(MONTHS, ""), days=settings.get(GRACE_DAYS, ""))


# --- Dates ------------------------------------------------------------------------------


def add_months(day: datetime.date, months: int) -> datetime.date:
    """Same day `months` later (or earlier), or the month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    return datetime.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _zone(campaign: Campaign) -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(campaign.time_zone)


def campaign_today(campaign: Campaign) -> datetime.date:
    return timezone.now().astimezone(_zone(campaign)).date()


def _day_start(campaign: Campaign, day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), _zone(campaign))


def _local_date(campaign: Campaign, moment: datetime.datetime) -> datetime.date:
    return moment.astimezone(_zone(campaign)).date()


def _cutoff(campaign: Campaign, day: datetime.date, months: int) -> datetime.datetime:
    """The moment T such that something dated x is due on `day` (its date + months is
    `day` or earlier) exactly when x < T."""
    latest = add_months(day, -months)
    while add_months(latest + datetime.timedelta(days=1), months) <= day:
        latest += datetime.timedelta(days=1)
    return _day_start(campaign, latest + datetime.timedelta(days=1))


def election_due_on(last_round: datetime.date, grace_days: int) -> datetime.date:
    """Election-bound data falls due the day after the last round, plus the grace period."""
    return last_round + datetime.timedelta(days=1 + grace_days)


def _election_rounds(campaign: Campaign) -> dict[int, datetime.date]:
    """{calendar election id: its last round} (a campaign has a handful)."""
    rows = CalendarElection.objects.filter(campaign=campaign).values_list("pk", "first_round_on", "second_round_on")
    return {pk: second or first for pk, first, second in rows}


def campaign_election_end(campaign: Campaign) -> datetime.date | None:
    """The last round of the campaign's last election, or None without any election."""
    rounds = _election_rounds(campaign).values()
    return max(rounds) if rounds else None


# --- What each rule selects, as of a date ----------------------------------------------

CONSENTED = Q(consent_email=True) | Q(consent_sms=True) | Q(consent_phone=True) | Q(consent_post=True)
REGULAR = Q(is_member=True) | Q(legal_basis=LegalBasis.MEMBER) | CONSENTED
INDIRECT = Q(source__in=sorted(INDIRECT_SOURCES))


def _sent(**filters: Any) -> models.QuerySet[Any]:
    from suffrage.messaging.models import Delivery

    return Delivery.objects.filter(person_id=OuterRef("pk"), sent_at__isnull=False, **filters)


@dataclass
class _Context:
    """What every rule needs to know about the campaign, read once."""

    campaign: Campaign
    rules: dict[str, dict[str, int | bool]]
    rounds: dict[int, datetime.date]

    @property
    def election_end(self) -> datetime.date | None:
        return max(self.rounds.values()) if self.rounds else None

    def end_due_on(self, key: str) -> datetime.date | None:
        end = self.election_end
        return election_due_on(end, int(self.rules[key][GRACE_DAYS])) if end else None

    def election_over(self, key: str, day: datetime.date) -> bool:
        due = self.end_due_on(key)
        return due is not None and due <= day

    def collected_for_election(self) -> Q:
        """People collected by the evening of the last round: collected for that
        election. Those collected later wait for the next election in the calendar."""
        end = self.election_end
        if end is None:
            return Q(pk__in=[])
        return Q(collected_at__lt=_day_start(self.campaign, end + datetime.timedelta(days=1)))

    def enabled(self, key: str) -> bool:
        return bool(self.rules[key][ENABLED])

    def people(self) -> models.QuerySet[Person]:
        return Person.objects.filter(campaign=self.campaign)


def _context(campaign: Campaign, rules: dict[str, dict[str, int | bool]] | None = None) -> _Context:
    return _Context(campaign=campaign, rules=rules or campaign_rules(campaign), rounds=_election_rounds(campaign))


def _prospects_due(ctx: _Context, day: datetime.date) -> Q | None:
    cutoff = _cutoff(ctx.campaign, day, int(ctx.rules["prospects"][MONTHS]))
    due = Q(Exists(_sent(sent_at__lt=cutoff)))
    if ctx.election_over("prospects", day):
        due |= ctx.collected_for_election()
    return ~REGULAR & INDIRECT & due


def _occasional_due(ctx: _Context, day: datetime.date) -> Q | None:
    if not ctx.election_over("occasional", day):
        return None
    return ~REGULAR & ~INDIRECT & ctx.collected_for_election()


def _regular_due(ctx: _Context, day: datetime.date) -> Q | None:
    cutoff = _cutoff(ctx.campaign, day, int(ctx.rules["regular"][MONTHS]))
    consent_since = ConsentEvent.objects.filter(person_id=OuterRef("pk"), at__gte=cutoff)
    return REGULAR & Q(updated_at__lt=cutoff) & ~Q(Exists(_sent(sent_at__gte=cutoff))) & ~Q(Exists(consent_since))


PEOPLE_RULES = {"prospects": _prospects_due, "occasional": _occasional_due, "regular": _regular_due}


def _people_due(ctx: _Context, key: str, day: datetime.date) -> models.QuerySet[Person] | None:
    if not ctx.enabled(key):
        return None
    selected = PEOPLE_RULES[key](ctx, day)
    return None if selected is None else ctx.people().filter(selected)


def _support_levels_due(ctx: _Context, day: datetime.date) -> models.QuerySet[Person] | None:
    """People whose support level is cleared: those who stay (others go whole)."""
    if not ctx.enabled("sensitive") or not ctx.election_over("sensitive", day):
        return None
    held = models.Q(support_level__isnull=False)
    for key in _sensitive_keys(ctx):
        held |= models.Q(custom__has_key=key)
    people = ctx.people().filter(held)
    for key, selects in PEOPLE_RULES.items():
        if ctx.enabled(key) and (leaving := selects(ctx, day)) is not None:
            people = people.exclude(leaving)
    return people


def _roll_elections_due(ctx: _Context, day: datetime.date) -> list[int]:
    if not ctx.enabled("roll"):
        return []
    grace = int(ctx.rules["roll"][GRACE_DAYS])
    return [pk for pk, last in ctx.rounds.items() if election_due_on(last, grace) <= day]


def _roll_versions(ctx: _Context, elections: list[int]) -> models.QuerySet[Any]:
    from suffrage.roll.models import RollVersion

    return RollVersion.objects.filter(campaign=ctx.campaign, election_id__in=elections)


def _roll_batches(ctx: _Context, elections: list[int]) -> models.QuerySet[Any]:
    """The imported roll files of those elections (a draft that never became a version included)."""
    from suffrage.imports.models import ImportBatch

    versions = _roll_versions(ctx, elections).filter(batch__isnull=False).values("batch_id")
    return ImportBatch.objects.filter(campaign=ctx.campaign).filter(
        Q(pk__in=versions) | Q(kind="roll", settings__election_id__in=elections)
    )


def _audit_due(ctx: _Context, day: datetime.date) -> models.QuerySet[AuditLog] | None:
    if not ctx.enabled("audit"):
        return None
    cutoff = _cutoff(ctx.campaign, day, int(ctx.rules["audit"][MONTHS]))
    return AuditLog.objects.filter(campaign=ctx.campaign, at__lt=cutoff)


def _counts(ctx: _Context, key: str, day: datetime.date) -> Counts:
    """What rule `key` removes if applied on `day` (aggregate queries only)."""
    if key in PEOPLE_RULES:
        people = _people_due(ctx, key, day)
        return {"people": people.count() if people is not None else 0}
    if key == "sensitive":
        levels = _support_levels_due(ctx, day)
        return {"values_cleared": levels.count() if levels is not None else 0}
    if key == "audit":
        rows = _audit_due(ctx, day)
        return {"audit_rows": rows.count() if rows is not None else 0}
    from suffrage.roll.models import RollEntry, RollLink

    elections = _roll_elections_due(ctx, day)
    if not elections:
        return {"roll_versions": 0, "roll_entries": 0, "roll_links": 0, "roll_files": 0}
    versions = _roll_versions(ctx, elections)
    return {
        "roll_versions": versions.count(),
        "roll_entries": RollEntry.objects.filter(version__in=versions.values("pk")).count(),
        "roll_links": RollLink.objects.filter(model__version__in=versions.values("pk")).count(),
        "roll_files": _roll_batches(ctx, elections).count(),
    }


def _next_due_on(ctx: _Context, key: str, day: datetime.date) -> datetime.date | None:
    """The first date after `day` on which more falls due under rule `key`, as things stand."""
    if not ctx.enabled(key):
        return None
    candidates: list[datetime.date] = []
    if key in ("prospects", "occasional", "sensitive"):
        end = ctx.end_due_on(key)
        if end is not None:
            candidates.append(end)
    if key == "roll":
        from suffrage.roll.models import RollVersion

        grace = int(ctx.rules["roll"][GRACE_DAYS])
        with_roll = set(RollVersion.objects.filter(campaign=ctx.campaign).values_list("election_id", flat=True))
        with_roll.update(_roll_batches(ctx, list(ctx.rounds)).values_list("settings__election_id", flat=True))
        candidates += [election_due_on(last, grace) for pk, last in ctx.rounds.items() if pk in with_roll]
    if key == "prospects":
        months = int(ctx.rules["prospects"][MONTHS])
        first = (
            ctx.people()
            .filter(~REGULAR & INDIRECT)
            .annotate(first=Subquery(_first_sent()))
            .filter(first__gte=_cutoff(ctx.campaign, day, months))
            .aggregate(earliest=Min("first"))["earliest"]
        )
        if first is not None:
            candidates.append(add_months(_local_date(ctx.campaign, first), months))
    if key == "regular":
        months = int(ctx.rules["regular"][MONTHS])
        last = (
            ctx.people()
            .filter(REGULAR)
            .annotate(last=_last_exchange())
            .filter(last__gte=_cutoff(ctx.campaign, day, months))
            .aggregate(earliest=Min("last"))["earliest"]
        )
        if last is not None:
            candidates.append(add_months(_local_date(ctx.campaign, last), months))
    if key == "audit":
        months = int(ctx.rules["audit"][MONTHS])
        cutoff = _cutoff(ctx.campaign, day, months)
        oldest = AuditLog.objects.filter(campaign=ctx.campaign, at__gte=cutoff).aggregate(first=Min("at"))["first"]
        if oldest is not None:
            candidates.append(add_months(_local_date(ctx.campaign, oldest), months))
    return min((candidate for candidate in candidates if candidate > day), default=None)


def _first_sent() -> models.QuerySet[Any]:
    first: models.QuerySet[Any] = _sent().order_by().values("person_id").annotate(first=Min("sent_at")).values("first")
    return first


def _last_exchange() -> Greatest:
    """A person's last exchange: the latest of their record's last change, the last
    message sent to them and their last consent event."""
    from suffrage.messaging.models import Delivery

    last_sent = (
        Delivery.objects.filter(person_id=OuterRef("pk"), sent_at__isnull=False)
        .order_by()
        .values("person_id")
        .annotate(last=Max("sent_at"))
        .values("last")
    )
    last_consent = (
        ConsentEvent.objects.filter(person_id=OuterRef("pk"))
        .order_by()
        .values("person_id")
        .annotate(last=Max("at"))
        .values("last")
    )
    # Coalesce: SQLite's multi-argument MAX is NULL as soon as one argument is.
    return Greatest(
        "updated_at",
        Coalesce(Subquery(last_sent), "updated_at"),
        Coalesce(Subquery(last_consent), "updated_at"),
    )


# --- Preview ----------------------------------------------------------------------------


@dataclass(frozen=True)
class PreviewLine:
    """One rule's forecast: what is due now, what falls due next and when, and why."""

    rule: Rule
    settings: dict[str, int | bool]
    on: datetime.date  # the day the preview is for ("now")
    due_now: Counts
    next_on: datetime.date | None
    next_counts: Counts
    note: str = ""

    @property
    def key(self) -> str:
        return self.rule.key

    @property
    def enabled(self) -> bool:
        return bool(self.settings[ENABLED])

    @property
    def label(self) -> str:
        return str(self.rule.label)

    @property
    def reason(self) -> str:
        return str(self.rule.reason)

    @property
    def when(self) -> str:
        return rule_when(self.rule, self.settings)

    @property
    def anything_due(self) -> bool:
        return any(self.due_now.values())

    @property
    def due_now_text(self) -> str:
        return describe_counts(self.due_now)

    @property
    def next_text(self) -> str:
        return describe_counts(self.next_counts)

    def sentence(self) -> str:
        """ "On 2 July 2027, 41,200 roll entries and 3,100 people will be removed, because …" """
        parts = []
        if self.anything_due:
            parts.append(
                _("Now: %(what)s will be removed, because %(why)s") % {"what": self.due_now_text, "why": self.reason}
            )
        if self.next_on is not None and any(self.next_counts.values()):
            parts.append(
                _("On %(day)s, %(what)s will be removed, because %(why)s")
                % {"day": date_format(self.next_on, "DATE_FORMAT"), "what": self.next_text, "why": self.reason}
            )
        return " ".join(parts) or _("Nothing to remove under this rule for now.")


def _waiting_note(ctx: _Context, key: str, day: datetime.date) -> str:
    """After the election: the people collected since, who wait for the next one."""
    selected = PEOPLE_RULES[key](ctx, day) or Q()
    base = ~REGULAR & (INDIRECT if key == "prospects" else ~INDIRECT)
    waiting_people = ctx.people().filter(base & ~ctx.collected_for_election()).exclude(selected)
    if key == "prospects":  # those messaged go `months` after their message
        waiting_people = waiting_people.exclude(Exists(_sent()))
    waiting = waiting_people.count()
    if not waiting:
        return ""
    return ngettext(
        "%(count)s person collected since the last election waits for the next election in the calendar.",
        "%(count)s people collected since the last election wait for the next election in the calendar.",
        waiting,
    ) % {"count": number_format(waiting, force_grouping=True)}


def _minus(later: Counts, now: Counts) -> Counts:
    return {key: max(0, value - now.get(key, 0)) for key, value in later.items()}


def retention_preview(campaign: Campaign, on: datetime.date | None = None) -> list[PreviewLine]:
    """For each rule: what applying it on `on` (today by default) removes, the next
    date more falls due and what then, and the legal reason. Aggregates only."""
    day = on or campaign_today(campaign)
    ctx = _context(campaign)
    lines = []
    for key, rule in DEFAULT_RULES.items():
        settings = ctx.rules[key]
        if not settings[ENABLED]:
            lines.append(
                PreviewLine(
                    rule=rule,
                    settings=settings,
                    on=day,
                    due_now={},
                    next_on=None,
                    next_counts={},
                    note=_("This rule is switched off: it removes nothing."),
                )
            )
            continue
        now = _counts(ctx, key, day)
        next_on = _next_due_on(ctx, key, day)
        next_counts = _minus(_counts(ctx, key, next_on), now) if next_on else {}
        note = ""
        if GRACE_DAYS in settings and key != "roll" and ctx.election_end is None:
            note = _("No election in the campaign's calendar: what waits for the end of the election is kept.")
        elif key in ("prospects", "occasional") and ctx.election_over(key, day):
            note = _waiting_note(ctx, key, day)
        lines.append(
            PreviewLine(
                rule=rule, settings=settings, on=day, due_now=now, next_on=next_on, next_counts=next_counts, note=note
            )
        )
    return lines


# --- Apply ------------------------------------------------------------------------------


def _chunks_of_ids(queryset: models.QuerySet[Any]) -> Iterator[list[int]]:
    """Ids of the queryset, CHUNK at a time, re-reading after each chunk is handled
    (always moving on, so a row that could not be removed never loops)."""
    last = 0
    while True:
        ids = list(queryset.filter(pk__gt=last).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _apply_people(
    ctx: _Context, key: str, day: datetime.date, actor: User | None, progress: JobProgress | None
) -> Counts:
    from suffrage.privacy.erasure import people_erase

    people = _people_due(ctx, key, day)
    removed = 0
    if people is not None:
        # Not an erasure or objection reason: expired data is deleted, not put on the
        # suppression list (the person never asked not to be contacted).
        reason = f"retention:{key}"
        for ids in _chunks_of_ids(people):
            erased = people_erase(
                campaign=ctx.campaign,
                people=Person.objects.filter(campaign=ctx.campaign, pk__in=ids),
                actor=actor,
                reason=reason,
                suppress=False,
            )
            removed += erased
            if progress:
                progress.advance(len(ids), people=erased)
    return {"people": removed}


def _sensitive_keys(ctx: _Context) -> list[str]:
    return list(CustomField.objects.filter(campaign_id=ctx.campaign.pk, sensitive=True).values_list("key", flat=True))


def _sensitive_values_clear(ids: list[int], keys: list[str]) -> int:
    """Remove the values of sensitive custom fields (a JSON key each) from these people."""
    if not keys:
        return 0
    changed = []
    for person in Person.objects.filter(pk__in=ids).only("pk", "custom"):
        kept = {key: value for key, value in person.custom.items() if key not in keys}
        if kept != person.custom:
            person.custom = kept
            changed.append(person)
    Person.objects.bulk_update(changed, ["custom"])  # no save(): updated_at stays
    return len(changed)


def _apply_sensitive(ctx: _Context, day: datetime.date, progress: JobProgress | None) -> Counts:
    people = _support_levels_due(ctx, day)
    cleared = 0
    if people is not None:
        for ids in _chunks_of_ids(people):
            with transaction.atomic():
                # update(): no save(), so updated_at (a "last exchange") is left alone.
                done = Person.objects.filter(pk__in=ids, support_level__isnull=False).update(support_level=None)
                done += _sensitive_values_clear(ids, _sensitive_keys(ctx))
            cleared += done
            if progress:
                progress.advance(len(ids), values_cleared=done)
    return {"values_cleared": cleared}


def _apply_roll(ctx: _Context, day: datetime.date, progress: JobProgress | None) -> Counts:
    from suffrage.roll.models import RollEntry, RollLink

    counts = {"roll_versions": 0, "roll_entries": 0, "roll_links": 0, "roll_files": 0}
    elections = _roll_elections_due(ctx, day)
    if not elections:
        return counts
    batches = list(_roll_batches(ctx, elections))
    for version in _roll_versions(ctx, elections).order_by("pk"):
        counts["roll_links"] += RollLink.objects.filter(model__version=version).count()
        for ids in _chunks_of_ids(RollEntry.objects.filter(version=version)):
            with transaction.atomic():
                # Cascades to the links and change rows of these entries.
                RollEntry.objects.filter(pk__in=ids).delete()
            counts["roll_entries"] += len(ids)
            if progress:
                progress.advance(len(ids), roll_entries=len(ids))
        with transaction.atomic():
            # The rest: matching models (their index file goes on commit), change rows.
            version.delete()
        counts["roll_versions"] += 1
    for batch in batches:
        _roll_batch_delete(batch)
        counts["roll_files"] += 1
    return counts


def _roll_batch_delete(batch: Any) -> None:
    """An imported roll file: its verdict rows, its row, then the file itself."""
    from suffrage.imports.models import ImportRow

    for ids in _chunks_of_ids(ImportRow.objects.filter(batch=batch)):
        ImportRow.objects.filter(pk__in=ids).delete()
    with transaction.atomic():
        name = batch.file.name
        storage = batch.file.storage
        batch.delete()
        if name:
            transaction.on_commit(lambda: storage.delete(name))


def _apply_audit(ctx: _Context, day: datetime.date, progress: JobProgress | None) -> Counts:
    rows = _audit_due(ctx, day)
    removed = 0
    if rows is not None:
        for ids in _chunks_of_ids(rows):
            with transaction.atomic():
                removed += _audit_rows_delete(AuditLog.objects.filter(pk__in=ids))
            if progress:
                progress.advance(len(ids), audit_rows=len(ids))
    return {"audit_rows": removed}


def _audit_rows_delete(rows: models.QuerySet[AuditLog]) -> int:
    """Retention deletes audit rows past their time (CNIL: logs are kept 6-12 months),
    through the ledger's one sanctioned way to delete."""
    deleted, _per_model = cast(AppendOnlyQuerySet, rows).purge()
    return deleted


def retention_apply(
    campaign: Campaign,
    *,
    actor: User | None = None,
    today: datetime.date | None = None,
    progress: JobProgress | None = None,
) -> dict[str, Counts]:
    """Remove what is due under each enabled rule, in chunks; one audit row per rule
    that removed something (counts only). Idempotent: a second run removes nothing.

    Returns {rule key: counts}."""
    day = today or campaign_today(campaign)
    ctx = _context(campaign)
    if progress:
        due = [_counts(ctx, key, day) for key in DEFAULT_RULES if ctx.enabled(key)]
        progress.set_total(sum(counts.get(step, 0) for counts in due for step in STEP_KEYS))
    report: dict[str, Counts] = {}
    # Roll first (its links hang on people), then people, then what stays of them, the audit log last.
    for key in ("roll", "prospects", "occasional", "regular", "sensitive", "audit"):
        if not ctx.enabled(key):
            continue
        if key == "roll":
            counts = _apply_roll(ctx, day, progress)
        elif key in PEOPLE_RULES:
            counts = _apply_people(ctx, key, day, actor, progress)
        elif key == "sensitive":
            counts = _apply_sensitive(ctx, day, progress)
        else:
            counts = _apply_audit(ctx, day, progress)
        report[key] = counts
        if any(counts.values()):
            audit_record(
                action="retention.apply",
                campaign=campaign,
                changes={"rule": key, "on": day.isoformat(), "counts": counts},
                actor=actor,
            )
    RetentionPolicy.objects.filter(campaign=campaign).update(last_run_at=timezone.now())
    logger.info("Retention applied for campaign %s: %s", campaign.pk, report)
    return report


# --- As a job (the page's "apply what is due now") ------------------------------------


def _retention_job(campaign: Campaign, actor: User | None) -> Job:
    return job_create(
        campaign=campaign,
        kind="retention_apply",
        label=_("Retention: removing what is due"),
        created_by=actor,
        required_permission="privacy.manage_retention",
    )


@transaction.atomic
def retention_apply_start(*, campaign: Campaign, actor: User | None) -> Job:
    """The page's "apply what is due now": a job the task worker runs."""
    job = _retention_job(campaign, actor)
    job_enqueue(job, retention_apply_task)
    return job


def retention_apply_run(*, job_id: int) -> Job:
    def work(progress: JobProgress) -> dict[str, Any]:
        job = progress.job
        progress.reset()
        return retention_apply(job.campaign, actor=job.created_by, progress=progress)

    return job_run(job_id, work)


@task()
def retention_apply_task(job_id: int) -> None:
    retention_apply_run(job_id=job_id)


def retention_tick() -> int:
    """Apply retention for each campaign that switched it on, at most once a day (the
    campaign's day). Each run is a visible job. Returns how many campaigns ran.

    Safe with several ticks at once: a campaign is claimed by moving last_run_at from
    the value read, so only one tick runs it."""
    ran = 0
    for policy in RetentionPolicy.objects.filter(enabled=True).select_related("campaign").order_by("pk"):
        campaign = policy.campaign
        today = campaign_today(campaign)
        if policy.last_run_at is not None and _local_date(campaign, policy.last_run_at) >= today:
            continue
        claimed = RetentionPolicy.objects.filter(pk=policy.pk, last_run_at=policy.last_run_at).update(
            last_run_at=timezone.now()
        )
        if not claimed:
            continue
        # A failure leaves the job failed and visible; the next try is tomorrow's tick.
        retention_apply_run(job_id=_retention_job(campaign, None).pk)
        ran += 1
    return ran
