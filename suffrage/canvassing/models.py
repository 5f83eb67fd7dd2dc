"""Door-to-door and phone canvassing: a canvass (its script, survey and area), the
doors of the area cut into turfs, visits at the doors, and phone-bank calls.

Door-to-door targets areas (buildings and streets of priority polling stations),
never profiled individuals: a door is an address, not a person."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign
from suffrage.people.models import Person
from suffrage.territory.models import PollingStation


class Canvass(models.Model):
    class Kind(models.TextChoices):
        DOORS = "doors", _("Door-to-door")
        PHONE = "phone", _("Phone bank")

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        ACTIVE = "active", _("Under way")
        FINISHED = "finished", _("Finished")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="canvasses")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.DOORS)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    name = models.CharField(_("name"), max_length=200)
    starts_on = models.DateField(_("from"), null=True, blank=True)
    ends_on = models.DateField(_("until"), null=True, blank=True)
    goal_doors = models.PositiveIntegerField(_("goal: doors knocked (or people called)"), null=True, blank=True)
    goal_conversations = models.PositiveIntegerField(_("goal: conversations"), null=True, blank=True)
    script = models.TextField(_("script"), blank=True, help_text=_("What to say (Markdown)."))
    # What the canvass covers: {"stations": [codes]} (picked, e.g. from a priority ranking,
    # "ranking": id for the record), {"polygon": GeoJSON}, or {"segment": id} (people
    # who asked to be visited; and the call list of a phone bank).
    area = models.JSONField(_("area"), default=dict, blank=True)
    turf_size = models.PositiveIntegerField(_("doors per turf"), default=60)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("canvass")
        verbose_name_plural = _("canvasses")

    def __str__(self) -> str:
        return self.name


class Question(models.Model):
    class Kind(models.TextChoices):
        SINGLE = "single", _("One choice")
        MULTIPLE = "multiple", _("Several choices")
        SCALE = "scale", _("Scale (1 to 5)")
        TEXT = "text", _("Free text")

    canvass = models.ForeignKey(Canvass, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.SINGLE)
    text = models.CharField(_("question"), max_length=300)
    choices = models.JSONField(_("choices"), default=list, blank=True)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.text


class Turf(models.Model):
    """A walk list: doors along a few streets of one polling station, for one volunteer."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    canvass = models.ForeignKey(Canvass, on_delete=models.CASCADE, related_name="turfs")
    name = models.CharField(_("name"), max_length=200)
    station = models.ForeignKey(PollingStation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # One volunteer at a time holds a turf: its doors are handed to nobody else meanwhile.
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="turfs",
        verbose_name=_("volunteer"),
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("assignment expires"), null=True, blank=True)
    doors_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["canvass", "name", "pk"]
        verbose_name = _("turf")

    def __str__(self) -> str:
        return self.name

    def held_by(self, user: object) -> bool:
        """Assigned to this volunteer, and the assignment has not expired."""
        return self.assigned_to_id == getattr(user, "pk", None) and (
            self.expires_at is None or self.expires_at > timezone.now()
        )


class Door(models.Model):
    """A door to knock at: a building entrance, or a stairwell of it (French housing),
    in walking order within its turf."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    canvass = models.ForeignKey(Canvass, on_delete=models.CASCADE, related_name="doors")
    turf = models.ForeignKey(Turf, null=True, blank=True, on_delete=models.SET_NULL, related_name="doors")
    station = models.ForeignKey(PollingStation, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    street = models.CharField(_("street"), max_length=200)
    number = models.CharField(_("number"), max_length=20, blank=True)
    building = models.CharField(_("building"), max_length=100, blank=True)
    stairwell = models.CharField(_("stairwell"), max_length=50, blank=True)
    floors = models.CharField(_("floors"), max_length=100, blank=True)  # "RDC, 1, 3": where people live, if known
    dwellings = models.PositiveIntegerField(_("dwellings"), default=1)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    position = models.PositiveIntegerField(default=0)  # walking order within the turf

    class Meta:
        ordering = ["turf", "position", "pk"]
        indexes = [models.Index(fields=["turf", "position"], name="door_turf_position")]

    def __str__(self) -> str:
        parts = [f"{self.number} {self.street}".strip(), self.building, self.stairwell]
        return ", ".join(part for part in parts if part)


class Outcome(models.TextChoices):
    """What happened at a door or on the phone."""

    NOT_HOME = "not_home", _("Not home")
    OPENED = "opened", _("Talked")
    REFUSED = "refused", _("Refused")
    COME_BACK = "come_back", _("Come back later")
    LEAFLET = "leaflet", _("Leaflet left")
    NO_ACCESS = "no_access", _("No access to the building")
    # Phone
    NO_ANSWER = "no_answer", _("No answer")
    WRONG_NUMBER = "wrong_number", _("Wrong number")
    CALL_BACK = "call_back", _("Call back")
    DO_NOT_CONTACT = "do_not_contact", _("Do not contact again")


DOOR_OUTCOMES = (
    Outcome.NOT_HOME,
    Outcome.OPENED,
    Outcome.REFUSED,
    Outcome.COME_BACK,
    Outcome.LEAFLET,
    Outcome.NO_ACCESS,
    Outcome.DO_NOT_CONTACT,
)
PHONE_OUTCOMES = (Outcome.NO_ANSWER, Outcome.WRONG_NUMBER, Outcome.OPENED, Outcome.CALL_BACK, Outcome.DO_NOT_CONTACT)
# Outcomes that call for a second pass.
REVISIT = (Outcome.NOT_HOME, Outcome.COME_BACK)


class Visit(models.Model):
    """One knock at a door (or one call): recorded on the phone, perhaps offline, and
    synced later. `client_id` is made on the phone: a retried sync never duplicates."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    canvass = models.ForeignKey(Canvass, on_delete=models.CASCADE, related_name="visits")
    door = models.ForeignKey(Door, null=True, blank=True, on_delete=models.CASCADE, related_name="visits")
    turf = models.ForeignKey(Turf, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    volunteer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("volunteer")
    )
    # The person met (who gave their details) or called.
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="visits")
    outcome = models.CharField(_("outcome"), max_length=20, choices=Outcome.choices)
    # {question id: answer}; only for conversations.
    answers = models.JSONField(default=dict, blank=True)
    note = models.CharField(_("note"), max_length=500, blank=True)
    callback_at = models.DateTimeField(_("call back at"), null=True, blank=True)
    client_id = models.UUIDField(default=uuid.uuid4, unique=True)
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now)  # on the phone
    synced_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-recorded_at", "-pk"]
        indexes = [
            models.Index(fields=["canvass", "recorded_at"], name="visit_canvass_recorded"),
            models.Index(fields=["door", "recorded_at"], name="visit_door_recorded"),
        ]

    def __str__(self) -> str:
        return f"{self.outcome} {self.recorded_at:%Y-%m-%d}"


class CallTarget(models.Model):
    """A person on a phone bank's list. Volunteers get one at a time (a claim), never
    the list."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    canvass = models.ForeignKey(Canvass, on_delete=models.CASCADE, related_name="call_targets")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claimed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # Called again from this time (a "call back at…", or the next try after no answer).
    next_call_at = models.DateTimeField(null=True, blank=True)
    done = models.BooleanField(default=False)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["canvass", "person"], name="call_target_unique")]

    def __str__(self) -> str:
        return f"{self.canvass_id}/{self.person_id}"
