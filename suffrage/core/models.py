"""Campaigns (the tenants), their members and roles, the audit log and jobs."""

from __future__ import annotations

import datetime
import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.roles import Role


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)


class User(AbstractUser):
    """A person who signs in: staff, candidate, volunteer. Not an elector record."""

    username = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    last_campaign = models.ForeignKey(
        "core.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects = UserManager()  # type: ignore[assignment,misc]

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.get_full_name() or self.email


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(_("%(value)s is not a known time zone."), params={"value": value})


def default_languages() -> list[str]:
    return ["fr"]


class Campaign(models.Model):
    """A tenant: a campaign or an elected official's office. Owns all its data."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), max_length=60, unique=True)
    country = models.CharField(_("country"), max_length=2, default="FR", help_text=_("ISO 3166 code, e.g. FR"))
    languages = models.JSONField(_("languages"), default=default_languages)
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris", validators=[validate_time_zone])
    require_mfa = models.BooleanField(
        _("require two-factor authentication for owners and managers"),
        default=True,
        help_text=_("They cannot reach personal data until they have set it up."),
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]
        verbose_name = _("campaign")

    def __str__(self) -> str:
        return self.name

    @property
    def language(self) -> str:
        """The campaign's first language: the one its automatic messages speak."""
        return str(self.languages[0]) if self.languages else settings.LANGUAGE_CODE


class CalendarElection(models.Model):
    """An election the campaign competes in. Retention and send locks hang on its dates."""

    class Kind(models.TextChoices):
        MUNICIPAL = "municipal", _("Municipal")
        LEGISLATIVE = "legislative", _("Legislative")
        PRESIDENTIAL = "presidential", _("Presidential")
        EUROPEAN = "european", _("European")
        DEPARTMENTAL = "departmental", _("Departmental")
        REGIONAL = "regional", _("Regional")
        SENATORIAL = "senatorial", _("Senatorial")
        OTHER = "other", _("Other")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="elections")
    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    first_round_on = models.DateField(_("first round"))
    second_round_on = models.DateField(_("second round"), null=True, blank=True)
    # Electoral silence (Code électoral L49): no propaganda from midnight on the day
    # before a round until the polls close. Sends are refused in that window.
    send_lock = models.BooleanField(
        _("refuse sends during the electoral silence"),
        default=True,
        help_text=_("From midnight on the day before each round until the polls close."),
    )
    polls_close_hour = models.PositiveSmallIntegerField(_("polls close at (hour)"), default=20)

    class Meta:
        ordering = ["first_round_on"]
        verbose_name = _("election")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(second_round_on__isnull=True)
                | models.Q(second_round_on__gt=models.F("first_round_on")),
                name="election_second_round_after_first",
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def last_round_on(self) -> Any:
        return self.second_round_on or self.first_round_on

    def silence_windows(self) -> list[tuple[Any, Any]]:
        """(start, end) aware datetimes of each round's silence, in the campaign's time zone."""
        zone = zoneinfo.ZoneInfo(self.campaign.time_zone)
        rounds = [day for day in (self.first_round_on, self.second_round_on) if day]
        return [
            (
                datetime.datetime.combine(day - datetime.timedelta(days=1), datetime.time(0), zone),
                datetime.datetime.combine(day, datetime.time(self.polls_close_hour), zone),
            )
            for day in rounds
        ]


class Membership(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["user__email"]
        constraints = [models.UniqueConstraint(fields=["campaign", "user"], name="membership_unique")]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()}, {self.campaign})"


class Invitation(models.Model):
    """An emailed link to join a campaign. Only a hash of the token is stored."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.email

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None and self.expires_at > timezone.now()


class AppendOnlyQuerySet(models.QuerySet[Any]):
    """For ledgers: rows are added, never changed or deleted through the ORM."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError(f"{self.model.__name__} rows are append-only.")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError(f"{self.model.__name__} rows are append-only.")

    # The two lawful exceptions, named so that a reader finds every use: erasure
    # blanks what rows said about a person (GDPR art. 17), retention deletes rows
    # past their time (CNIL: logs kept 6 to 12 months).
    def redact(self, **blanks: Any) -> int:
        return super().update(**blanks)

    def purge(self) -> tuple[int, dict[str, int]]:
        return super().delete()


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError(f"{type(self).__name__} rows are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError(f"{type(self).__name__} rows are append-only.")


class AuditLog(AppendOnlyModel):
    """Append-only: who did what, when, to which object, with old and new values."""

    campaign = models.ForeignKey(Campaign, null=True, on_delete=models.CASCADE, related_name="+")
    actor = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    # Kept as text so the row still says who acted after the account is deleted.
    actor_email = models.CharField(max_length=254, blank=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    action = models.CharField(max_length=80, db_index=True)
    object_type = models.CharField(max_length=80, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["campaign", "-at"], name="audit_campaign_at"),
            # A person's story, access report and erasure look their rows up by object.
            models.Index(fields=["campaign", "object_type", "object_id"], name="audit_campaign_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_email} {self.action}"


# How the progress display names the counters jobs keep (unknown keys show as is).
JOB_COUNT_LABELS = {
    "rows": _("rows"),
    "created": _("created"),
    "updated": _("updated"),
    "merged": _("merged"),
    "skipped": _("skipped"),
    "rejected": _("rejected"),
    "sent": _("sent"),
    "errors": _("problems"),
    # Geocoding: how each address was located.
    "address_exact": _("exact address"),
    "address_fuzzy": _("close address"),
    "boundary": _("inside a boundary"),
    "approximate": _("approximate area"),
    "unknown": _("not located"),
    # Retention: what a run removed.
    "people": _("people"),
    "roll_entries": _("roll entries"),
    "values_cleared": _("values cleared"),
    "audit_rows": _("audit rows"),
    # Canvassing: an area cut into turfs.
    "doors": _("doors"),
    "turfs": _("turfs"),
}


class Job(models.Model):
    """A long task's visible state: progress, counts, errors and final report."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting")
        RUNNING = "running", _("Running")
        SUCCEEDED = "succeeded", _("Finished")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="jobs")
    kind = models.CharField(max_length=80)
    label = models.CharField(max_length=200)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    # The permission a member needs to see this job and download its result.
    required_permission = models.CharField(max_length=80)
    params = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    errors = models.JSONField(default=list, blank=True)
    report = models.JSONField(default=dict, blank=True)
    result_file = models.FileField(upload_to="jobs/%Y/%m/", blank=True)
    task_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def is_finished(self) -> bool:
        return self.status in (self.Status.SUCCEEDED, self.Status.FAILED)

    def labelled_counts(self) -> list[tuple[str, int]]:
        return [(str(JOB_COUNT_LABELS.get(key, key)), value) for key, value in self.counts.items()]

    @property
    def percent(self) -> int | None:
        if not self.total:
            return 100 if self.status == self.Status.SUCCEEDED else None
        return min(100, round(100 * self.done / self.total))
