"""The citizen-elector and everything the campaign knows about them, with where
each piece came from and on which legal basis."""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import AppendOnlyModel, Campaign


class Source(models.TextChoices):
    MANUAL = "manual", _("Entered by hand")
    IMPORT = "import", _("File import")
    WEB_FORM = "web_form", _("Web form")
    EVENT = "event", _("Event")
    CANVASSING = "canvassing", _("Door-to-door")
    SOCIAL = "social", _("Social network")
    ROLL = "roll", _("Electoral roll")
    API = "api", _("Another tool, through the API")


# Data not collected from the person: a first-contact notice is owed (GDPR art. 14).
INDIRECT_SOURCES = frozenset({Source.IMPORT, Source.SOCIAL, Source.ROLL})


class LegalBasis(models.TextChoices):
    CONSENT = "consent", _("Consent")
    MEMBER = "member", _("Member or regular contact")
    LEGITIMATE_INTEREST = "legitimate_interest", _("Legitimate interest")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    PHONE = "phone", _("Phone")
    POST = "post", _("Post")


# Who may be contacted on a channel without having consented: members and regular
# contacts of the party (GDPR art. 9(2)(d)) on every channel; legitimate interest by
# post and phone only (CNIL: email and SMS prospection need prior consent). A
# withdrawal always wins.
WITHOUT_CONSENT = {
    Channel.EMAIL: (LegalBasis.MEMBER,),
    Channel.SMS: (LegalBasis.MEMBER,),
    Channel.PHONE: (LegalBasis.MEMBER, LegalBasis.LEGITIMATE_INTEREST),
    Channel.POST: (LegalBasis.MEMBER, LegalBasis.LEGITIMATE_INTEREST),
}


def lawful_contact(channel: str) -> models.Q:
    """People the campaign may contact on this channel: their consent, or a lawful basis without it.

    "Consent given" is spelled `IS NOT NULL AND consent`: for an unknown consent the
    test is then false rather than NULL, so that the database skips the contact-point
    EXISTS that follows it (NULL AND x must evaluate x): a quarter less work on a count
    over a million people (bench/README.md, Segments)."""
    return models.Q(**{f"consent_{channel}__isnull": False, f"consent_{channel}": True}) | models.Q(
        **{f"consent_{channel}__isnull": True, "legal_basis__in": WITHOUT_CONSENT[Channel(channel)]}
    )


def usable_emails() -> models.QuerySet[PersonEmail]:
    """Email addresses a message can go to: not bounced, not complained, not suppressed
    (a suppressed address is marked when it arrives, privacy.services.suppressed_among)."""
    return PersonEmail.objects.filter(status=PersonEmail.Status.OK)


def contact_point(channel: str) -> models.Q:
    """People with somewhere to reach them on this channel (an EXISTS, no join)."""
    if channel == Channel.EMAIL:
        return models.Q(models.Exists(usable_emails().filter(person_id=models.OuterRef("pk"))))
    related = {
        Channel.SMS: ("people.PersonPhone", {"sms_capable": True, "suppressed": False}),
        Channel.PHONE: ("people.PersonPhone", {"suppressed": False}),
        Channel.POST: ("people.PostalAddress", {}),
    }
    label, filters = related[Channel(channel)]
    model = apps.get_model(label)
    return models.Q(models.Exists(model.objects.filter(person_id=models.OuterRef("pk"), **filters)))


def reachable(channel: str) -> models.Q:
    """Can be reached on the channel: somewhere to reach them, and the right to."""
    return lawful_contact(channel) & contact_point(channel)


class Civility(models.TextChoices):
    NONE = "", _("—")
    MR = "M", _("Mr")
    MRS = "Mme", _("Mrs")


class SupportLevel(models.IntegerChoices):
    """Only what the person said, recorded as special-category data."""

    STRONG = 1, _("1 · Strong support")
    LEANING = 2, _("2 · Leaning towards us")
    UNDECIDED = 3, _("3 · Undecided")
    LEANING_AGAINST = 4, _("4 · Leaning against")
    OPPOSED = 5, _("5 · Opposed")


class PersonQuerySet(models.QuerySet["Person"]):
    def search(self, text: str) -> PersonQuerySet:
        """Every word must appear in the name, email, phone, postcode or town (accents and case ignored)."""
        from suffrage.imports.normalise import search_key

        people = self
        for word in search_key(text).split():
            people = people.filter(search_text__contains=word)
        return people

    def reachable_by(self, channel: str) -> PersonQuerySet:
        """People with somewhere to reach them on this channel and the right to (`reachable`)."""
        return self.filter(reachable(channel))


class Person(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="people")
    civility = models.CharField(_("civility"), max_length=4, choices=Civility.choices, blank=True)
    first_names = models.CharField(_("first names"), max_length=200, blank=True)
    birth_name = models.CharField(_("birth name"), max_length=150, blank=True)
    usage_name = models.CharField(_("usage name"), max_length=150, blank=True)
    birth_date = models.DateField(_("birth date"), null=True, blank=True)
    is_member = models.BooleanField(_("member"), default=False)
    is_volunteer = models.BooleanField(_("volunteer"), default=False)
    is_donor = models.BooleanField(_("donor"), default=False)
    support_level = models.PositiveSmallIntegerField(
        _("support level (as the person said)"), choices=SupportLevel.choices, null=True, blank=True
    )
    external_id = models.CharField(_("external identifier"), max_length=100, blank=True)

    # Provenance of the record and of the values it was created with; a value changed
    # later from another source records that source in field_sources.
    source = models.CharField(_("source"), max_length=20, choices=Source.choices)
    source_detail = models.CharField(_("source detail"), max_length=200, blank=True)
    legal_basis = models.CharField(_("legal basis"), max_length=30, choices=LegalBasis.choices)
    collected_at = models.DateTimeField(_("collected on"), default=timezone.now)
    notice_sent_at = models.DateTimeField(_("first-contact notice sent on"), null=True, blank=True)
    field_sources = models.JSONField(default=dict, blank=True)

    custom = models.JSONField(default=dict, blank=True)
    tags = models.ManyToManyField("people.Tag", related_name="people", blank=True)

    # Current consent per channel, derived from the ConsentEvent ledger by the
    # consent service (the ledger is the truth; these make filters fast).
    consent_email = models.BooleanField(null=True, blank=True, editable=False)
    consent_sms = models.BooleanField(null=True, blank=True, editable=False)
    consent_phone = models.BooleanField(null=True, blank=True, editable=False)
    consent_post = models.BooleanField(null=True, blank=True, editable=False)

    # Lowercase, accent-free words for search and duplicate detection.
    search_text = models.TextField(blank=True, editable=False)
    name_key = models.CharField(max_length=300, blank=True, editable=False)
    # Ids of records merged into this one: their history stays on the timeline.
    merged_ids = models.JSONField(default=list, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PersonQuerySet.as_manager()

    class Meta:
        ordering = ["name_key", "pk"]
        verbose_name = _("person")
        verbose_name_plural = _("people")
        indexes = [
            models.Index(fields=["campaign", "name_key"], name="person_campaign_name"),
            models.Index(fields=["campaign", "external_id"], name="person_campaign_external_id"),
            models.Index(fields=["campaign", "-created_at"], name="person_campaign_created"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def last_name(self) -> str:
        return self.usage_name or self.birth_name

    @property
    def display_name(self) -> str:
        return " ".join(part for part in (self.first_names, self.last_name) if part) or f"#{self.pk}"

    @property
    def notice_owed(self) -> bool:
        return self.source in INDIRECT_SOURCES and self.notice_sent_at is None

    def consent_state(self) -> list[tuple[str, str, bool | None]]:
        """(channel, its label, current state) for each channel."""
        return [(channel, str(label), getattr(self, f"consent_{channel}")) for channel, label in Channel.choices]


class PersonEmail(models.Model):
    class Status(models.TextChoices):
        OK = "ok", _("Valid")
        BOUNCED = "bounced", _("Bounced (permanent failure)")
        COMPLAINED = "complained", _("Reported as spam")
        SUPPRESSED = "suppressed", _("On the suppression list")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="emails")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    address = models.EmailField(_("email address"))
    is_primary = models.BooleanField(default=False)
    # Set by bounces and complaints (messaging): such an address is no longer used.
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OK)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-is_primary", "pk"]
        indexes = [models.Index(fields=["campaign", "address"], name="email_campaign_address")]
        constraints = [models.UniqueConstraint(fields=["person", "address"], name="email_unique_per_person")]

    def __str__(self) -> str:
        return self.address


class PersonPhone(models.Model):
    class Kind(models.TextChoices):
        MOBILE = "mobile", _("Mobile")
        LANDLINE = "landline", _("Landline")
        OTHER = "other", _("Other")

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("phone number (E.164)"), max_length=20)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OTHER)
    sms_capable = models.BooleanField(_("can receive SMS"), default=False)
    # On the suppression list (an erasure or objection elsewhere): never called or texted.
    suppressed = models.BooleanField(default=False)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["pk"]
        indexes = [models.Index(fields=["campaign", "number"], name="phone_campaign_number")]
        constraints = [models.UniqueConstraint(fields=["person", "number"], name="phone_unique_per_person")]

    def __str__(self) -> str:
        return self.number


class PostalAddress(models.Model):
    """A French-structured address; `insee_code` and later a polling station come from geocoding."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="addresses")
    number = models.CharField(_("number"), max_length=10, blank=True)
    repetition = models.CharField(_("bis, ter…"), max_length=10, blank=True)
    street = models.CharField(_("street"), max_length=200, blank=True)
    building = models.CharField(_("building"), max_length=100, blank=True)
    stairwell = models.CharField(_("stairwell"), max_length=50, blank=True)
    floor = models.CharField(_("floor"), max_length=20, blank=True)
    complement = models.CharField(_("address complement"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=10, blank=True)
    town = models.CharField(_("town"), max_length=100, blank=True)
    insee_code = models.CharField(_("INSEE code"), max_length=5, blank=True)
    country = models.CharField(_("country"), max_length=2, default="FR")
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    # Filled by geocoding (territory app): where the address votes, and how that was found.
    polling_station = models.ForeignKey(
        "territory.PollingStation", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    geocode_method = models.CharField(max_length=20, blank=True)
    lon = models.FloatField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["pk"]
        verbose_name = _("postal address")

    def __str__(self) -> str:
        street = " ".join(part for part in (self.number, self.repetition, self.street) if part)
        return ", ".join(part for part in (street, f"{self.postcode} {self.town}".strip()) if part)


class SocialProfile(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="social_profiles")
    network = models.CharField(_("network"), max_length=30)
    handle = models.CharField(_("handle"), max_length=200, blank=True)
    url = models.URLField(_("address"), blank=True)

    def __str__(self) -> str:
        return f"{self.network}: {self.handle or self.url}"


class Tag(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="tags")
    name = models.CharField(_("name"), max_length=80)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["campaign", "name"], name="tag_unique_per_campaign")]

    def __str__(self) -> str:
        return self.name


class CustomField(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        DATE = "date", _("Date")
        BOOLEAN = "boolean", _("Yes / no")
        CHOICE = "choice", _("One choice")
        MULTIPLE = "multiple", _("Several choices")

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="custom_fields")
    label = models.CharField(_("label"), max_length=100)
    key = models.SlugField(_("key"), max_length=50, help_text=_("Used in imports and exports, e.g. neighbourhood"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.TEXT)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    sensitive = models.BooleanField(
        _("sensitive"),
        default=False,
        help_text=_(
            "Special-category data (an opinion, health, beliefs): only owners and managers see and use it, "
            "and it is cleared after the election."
        ),
    )

    class Meta:
        ordering = ["label"]
        constraints = [models.UniqueConstraint(fields=["campaign", "key"], name="custom_field_key_unique")]

    def __str__(self) -> str:
        return self.label


class Note(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    text = models.TextField(_("note"))
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.text[:50]


class ConsentEvent(AppendOnlyModel):
    """One line of the append-only consent ledger, with its proof."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="consent_events")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    purpose = models.CharField(_("purpose"), max_length=50, default="campaign")
    granted = models.BooleanField(_("granted"))
    at = models.DateTimeField(default=timezone.now)
    # Proof: where and how it was given or withdrawn.
    source = models.CharField(max_length=20, choices=Source.choices)
    form = models.CharField(_("form or document"), max_length=200, blank=True)
    wording = models.TextField(_("wording shown"), blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.channel} {'+' if self.granted else '-'} {self.at:%Y-%m-%d}"


class DuplicateDismissal(models.Model):
    """A pair a user reviewed and said are two different people."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    first = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    second = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    dismissed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    dismissed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["first", "second"], name="duplicate_dismissal_unique")]

    def __str__(self) -> str:
        return f"{self.first_id} ≠ {self.second_id}"
