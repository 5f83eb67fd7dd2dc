"""What citizens do on the campaign's public pages: forms and petitions (actions),
events and their RSVPs, calls to action; and the settings of those pages."""

from __future__ import annotations

import secrets
import zoneinfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from suffrage.core.models import Campaign, validate_time_zone
from suffrage.people.models import Channel, Person, Tag


def new_key() -> str:
    return secrets.token_urlsafe(24)


class PublicSite(models.Model):
    """The campaign's public microsite: how it looks, and who may embed or post to it."""

    campaign = models.OneToOneField(Campaign, on_delete=models.CASCADE, related_name="public_site")
    title = models.CharField(_("title"), max_length=200, blank=True, help_text=_("The campaign's name if empty."))
    intro = models.TextField(_("introduction"), blank=True, help_text=_("Shown on the home page (Markdown)."))
    colour = models.CharField(_("colour"), max_length=7, default="#1d4ed8")
    logo = models.BinaryField(_("logo"), null=True, blank=True, editable=False)
    logo_type = models.CharField(max_length=40, blank=True, editable=False)
    notice = models.TextField(
        _("information notice"),
        blank=True,
        help_text=_(
            "Who collects the data, why, on which legal basis, for how long, and how to exercise one's rights. "
            "Shown under every form; a default text is used if empty."
        ),
    )
    # The candidate's website(s): allowed to frame the pages and to post to the JSON endpoint.
    allowed_origins = models.TextField(
        _("websites allowed to embed"), blank=True, help_text=_("One origin a line, e.g. https://www.example.fr")
    )
    api_key = models.CharField(_("signup key"), max_length=64, default=new_key, editable=False)
    proof_of_work = models.BooleanField(
        _("ask browsers for a proof of work"),
        default=False,
        help_text=_("A few seconds of computation in the visitor's browser slow bots down; no third-party captcha."),
    )

    def __str__(self) -> str:
        return self.title or self.campaign.name

    def origins(self) -> list[str]:
        return [line.strip().rstrip("/") for line in self.allowed_origins.splitlines() if line.strip()]


class Status(models.TextChoices):
    DRAFT = "draft", _("Draft")
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Action(models.Model):
    """A public form: a signup, a volunteer form, a question, a contact form, or a petition."""

    class Kind(models.TextChoices):
        SIGNUP = "signup", _("Signup")
        VOLUNTEER = "volunteer", _("Volunteer")
        QUESTION = "question", _("Ask a question")
        CONTACT = "contact", _("Contact")
        PETITION = "petition", _("Petition")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="actions")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.SIGNUP)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), max_length=80)
    description = models.TextField(_("text"), blank=True, help_text=_("Markdown."))
    # [{"key": "first_names" | "custom:<key>" | "message", "required": bool, "label": ""}], see fields.py
    fields = models.JSONField(_("fields"), default=list, blank=True)
    double_opt_in = models.BooleanField(
        _("confirm by email before consent counts"),
        default=False,
        help_text=_("The person receives a link; their consent is recorded when they open it."),
    )
    tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("tag given")
    )
    thanks_message = models.TextField(_("thank-you message"), blank=True)
    redirect_url = models.URLField(_("or send to this page after submitting"), blank=True)
    autoreply_subject = models.CharField(_("automatic reply: subject"), max_length=200, blank=True)
    autoreply_text = models.TextField(_("automatic reply: text"), blank=True)
    # Petitions
    target = models.CharField(_("addressed to"), max_length=200, blank=True)
    goal = models.PositiveIntegerField(_("signature goal"), null=True, blank=True)
    public_signers = models.BooleanField(
        _("list the signers who agree"), default=False, help_text=_("First name and initial only, if they tick it.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("form")
        constraints = [models.UniqueConstraint(fields=["campaign", "slug"], name="action_slug_unique")]

    def __str__(self) -> str:
        return self.title

    @property
    def is_petition(self) -> bool:
        return self.kind == self.Kind.PETITION


class ConsentWording(models.Model):
    """The exact words of a consent checkbox. A change makes a new version; each
    submission points at the version it showed (the proof)."""

    action = models.ForeignKey(Action, null=True, blank=True, on_delete=models.CASCADE, related_name="wordings")
    event = models.ForeignKey("Event", null=True, blank=True, on_delete=models.CASCADE, related_name="wordings")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    version = models.PositiveIntegerField(default=1)
    text = models.TextField(_("wording"))
    retired_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["channel", "-version"]

    def __str__(self) -> str:
        return f"{self.channel} v{self.version}"


class Submission(models.Model):
    """One filled form or petition signature."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting for email confirmation")
        CONFIRMED = "confirmed", _("Confirmed")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    action = models.ForeignKey(Action, on_delete=models.CASCADE, related_name="submissions")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="submissions")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.CONFIRMED)
    # Answers that are not person fields (a question's text, a volunteer's availability).
    answers = models.JSONField(default=dict, blank=True)
    # {channel: ConsentWording id} ticked; recorded in the ledger now, or on confirmation.
    consents = models.JSONField(default=dict, blank=True)
    show_name = models.BooleanField(_("name shown among the signers"), default=False)
    via = models.CharField(max_length=20, default="page")  # page, embed, api
    # Where the visitor came from, when the link said (`?via=post-…`: a social post).
    referral = models.CharField(max_length=40, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    confirm_hash = models.CharField(max_length=64, blank=True, db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["action", "created_at"], name="submission_action_created")]

    def __str__(self) -> str:
        return f"{self.action_id}/{self.person_id}"


class Event(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open for RSVPs")
        CLOSED = "closed", _("RSVPs closed")
        CANCELLED = "cancelled", _("Cancelled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="events")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), max_length=80)
    description = models.TextField(_("description"), blank=True, help_text=_("Markdown."))
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Paris", validators=[validate_time_zone])
    venue = models.CharField(_("place"), max_length=200, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    online_url = models.URLField(_("online link"), blank=True)
    capacity = models.PositiveIntegerField(_("capacity"), null=True, blank=True, help_text=_("Empty: no limit."))
    waitlist = models.BooleanField(_("waiting list when full"), default=True)
    organisers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="+", verbose_name=_("organisers")
    )
    # Automatic messages to those coming: hours before the start, and hours after the end.
    reminder_hours = models.JSONField(_("reminders (hours before)"), default=list, blank=True)
    followup_hours = models.PositiveIntegerField(_("follow-up (hours after)"), null=True, blank=True)
    followup_text = models.TextField(_("follow-up message"), blank=True)
    tag = models.ForeignKey(
        Tag, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", verbose_name=_("tag given")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        verbose_name = _("event")
        constraints = [models.UniqueConstraint(fields=["campaign", "slug"], name="event_slug_unique")]

    def __str__(self) -> str:
        return self.title

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    @property
    def is_past(self) -> bool:
        return self.ends_at < timezone.now()


class RSVP(models.Model):
    class Status(models.TextChoices):
        GOING = "going", _("Coming")
        WAITLIST = "waitlist", _("On the waiting list")
        CANCELLED = "cancelled", _("Cancelled")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rsvps")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="rsvps")
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.GOING)
    guests = models.PositiveSmallIntegerField(_("people coming with them"), default=0)
    consents = models.JSONField(default=dict, blank=True)
    via = models.CharField(max_length=20, default="page")
    referral = models.CharField(max_length=40, blank=True)  # as Submission.referral
    # A secret in the confirmation email: the QR code to show at the door, and the cancel link.
    token = models.CharField(max_length=40, default=new_key, unique=True)
    checked_in_at = models.DateTimeField(_("checked in"), null=True, blank=True)
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("RSVP")
        constraints = [models.UniqueConstraint(fields=["event", "person"], name="rsvp_unique_per_person")]

    def __str__(self) -> str:
        return f"{self.event_id}/{self.person_id}"

    @property
    def seats(self) -> int:
        return 1 + self.guests


class CallToAction(models.Model):
    """Something to do with one click: volunteer for a shift, share, donate, come to an event."""

    class Kind(models.TextChoices):
        SHIFT = "shift", _("Volunteer for a shift")
        SHARE = "share", pgettext_lazy("call to action", "Share")
        DONATE = "donate", _("Donate")
        EVENT = "event", _("Come to an event")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="calls_to_action")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    title = models.CharField(_("title"), max_length=200)
    slug = models.SlugField(_("short name in addresses"), max_length=80)
    description = models.TextField(_("text"), blank=True, help_text=_("Markdown."))
    # Donate: the external payment page (the campaign's financial agent's); share: the page to share.
    url = models.URLField(_("link"), blank=True)
    event = models.ForeignKey(Event, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # Shift
    starts_at = models.DateTimeField(_("shift starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("shift ends"), null=True, blank=True)
    slots = models.PositiveIntegerField(_("volunteers needed"), null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("call to action")
        constraints = [models.UniqueConstraint(fields=["campaign", "slug"], name="cta_slug_unique")]

    def __str__(self) -> str:
        return self.title


class Response(models.Model):
    """One tracked answer to a call to action: a shift taken, a share, a donation intent."""

    class Kind(models.TextChoices):
        CLICK = "click", _("Followed the link")
        COMMIT = "commit", _("Signed up")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    call = models.ForeignKey(CallToAction, on_delete=models.CASCADE, related_name="responses")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    detail = models.CharField(max_length=40, blank=True)  # the network shared to
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["call", "created_at"], name="response_call_created")]

    def __str__(self) -> str:
        return f"{self.call_id}/{self.kind}"


class PageView(models.Model):
    """Views of a public page per day (no cookie, no address kept): the conversion's denominator."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    page = models.CharField(max_length=40)  # "action:12", "event:3", "call:5"
    day = models.DateField()
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "page", "day"], name="pageview_unique")]

    def __str__(self) -> str:
        return f"{self.page} {self.day}: {self.count}"
