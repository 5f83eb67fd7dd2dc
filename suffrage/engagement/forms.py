"""Forms of the organisers' pages: the form and petition builder, the event editor,
calls to action, check-in at the door and the public site's settings.

The builder works without JavaScript: the fields a form asks are a table of
checkboxes and order numbers, one row per field of the catalogue."""

from __future__ import annotations

import datetime
import io
import re
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import models
from django.forms.boundfield import BoundField
from django.utils.dateparse import parse_datetime
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _

from suffrage.core.models import Campaign, User
from suffrage.engagement.fields import SHORT, catalogue
from suffrage.engagement.models import Action, CallToAction, Event, PublicSite
from suffrage.imports.normalise import InvalidValue, normalise_email, normalise_phone
from suffrage.people.models import Channel

CONSENT_CHANNELS = [channel for channel, _label in Channel.choices]

# A suggestion for a new form's checkboxes, in the campaign's first language: specific
# (who, which channel, what for) and saying how to stop, as the CNIL asks of consent.
DEFAULT_CONSENTS = {
    "fr": {
        "email": (
            "J'accepte que {name} m'envoie par email des informations sur sa campagne. "
            "Je peux me désinscrire à tout moment grâce au lien présent dans chaque message."
        ),
        "sms": (
            "J'accepte que {name} m'envoie par SMS des informations sur sa campagne. "
            "Je peux me désinscrire à tout moment en répondant STOP."
        ),
    },
    "en": {
        "email": (
            "I agree that {name} may email me news of its campaign. "
            "I can unsubscribe at any time with the link in every message."
        ),
        "sms": "I agree that {name} may text me news of its campaign. I can stop at any time by replying STOP.",
    },
}

# What a new form asks unless the organiser changes it.
DEFAULT_FIELDS = [
    {"key": "first_names", "required": True, "label": ""},
    {"key": "last_name", "required": False, "label": ""},
    {"key": "email", "required": True, "label": ""},
    {"key": "postcode", "required": False, "label": ""},
]

LOGO_MAX_BYTES = 200 * 1024
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
ORIGIN = re.compile(r"^https://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")
MAX_REMINDER_HOURS = 14 * 24  # the reminder task looks two weeks ahead


def _formfield(field: models.Field, **kwargs: Any) -> forms.Field | None:  # type: ignore[type-arg]
    # Links typed without a scheme are read as https (Django 6's default).
    if isinstance(field, models.URLField):
        kwargs.setdefault("assume_scheme", "https")
    return field.formfield(**kwargs)


def default_consents(campaign: Campaign) -> dict[str, str]:
    languages = campaign.languages or ["fr"]
    texts = DEFAULT_CONSENTS.get(str(languages[0])[:2], DEFAULT_CONSENTS["en"])
    return {channel: text.format(name=campaign.name) for channel, text in texts.items()}


def _add_consent_fields(form: forms.BaseForm, texts: dict[str, str]) -> None:
    labels = dict(Channel.choices)
    for channel in CONSENT_CHANNELS:
        form.fields[f"consent_{channel}"] = forms.CharField(
            label=labels[channel],
            required=False,
            max_length=2000,
            initial=texts.get(channel, ""),
            widget=forms.Textarea(attrs={"rows": 2}),
        )


def consent_texts(cleaned: dict[str, Any]) -> dict[str, str]:
    return {channel: cleaned.get(f"consent_{channel}", "") or "" for channel in CONSENT_CHANNELS}


def _slug_clean(form: forms.ModelForm, model: type[models.Model], what: str) -> str:  # type: ignore[type-arg]
    slug = slugify(form.cleaned_data.get("slug") or form.cleaned_data.get("title") or "")[:80]
    if not slug:
        raise ValidationError(_("Give a short name made of letters, digits and hyphens."))
    taken = model._default_manager.filter(campaign=form.instance.campaign, slug=slug).exclude(pk=form.instance.pk)
    if taken.exists():
        raise ValidationError(
            _("Another %(what)s of this campaign already uses “%(slug)s”: choose another short name.")
            % {"what": what, "slug": slug}
        )
    return slug


def _tag_initial(obj: Action | Event) -> str:
    return obj.tag.name if obj.pk and obj.tag_id and obj.tag else ""


# --- Forms and petitions -----------------------------------------------------------------


@dataclass
class FieldRow:
    """One line of the builder's table: a field of the catalogue and what to do with it."""

    key: str
    label: str
    ask: BoundField
    required: BoundField
    custom_label: BoundField
    order: BoundField


class ActionForm(forms.ModelForm):  # type: ignore[type-arg]
    fields_error: Any = None  # shown above the fields table
    chosen_fields: list[dict[str, Any]]

    tag_name = forms.CharField(
        label=_("Tag given"),
        required=False,
        max_length=80,
        help_text=_("Everyone who fills the form gets this tag (created if new)."),
    )

    class Meta:
        model = Action
        formfield_callback = _formfield
        fields = [
            "title",
            "slug",
            "kind",
            "status",
            "description",
            "double_opt_in",
            "thanks_message",
            "redirect_url",
            "autoreply_subject",
            "autoreply_text",
            "target",
            "goal",
            "public_signers",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "thanks_message": forms.Textarea(attrs={"rows": 3}),
            "autoreply_text": forms.Textarea(attrs={"rows": 5}),
        }
        help_texts = {
            "slug": _("In the public address; made from the title if left empty."),
            "autoreply_text": _("Sent by email after each submission when a subject is given."),
            "target": _("Petitions only: who the petition is addressed to."),
        }

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.fields["slug"].required = False
        action = self.instance
        self.fields["tag_name"].initial = _tag_initial(action)
        from suffrage.engagement.services import wordings_current

        texts = {w.channel: w.text for w in wordings_current(action)} if action.pk else default_consents(campaign)
        _add_consent_fields(self, texts)
        self.catalogue = catalogue(campaign)
        chosen = list(action.fields or []) if action.pk else DEFAULT_FIELDS
        position = {item["key"]: index for index, item in enumerate(chosen)}
        settings = {item["key"]: item for item in chosen}
        unchosen = [key for key in self.catalogue if key not in position]
        for index, key in enumerate(unchosen):
            position[key] = len(chosen) + index
        for key in self.catalogue:
            item = settings.get(key, {})
            self.fields[f"{key}__ask"] = forms.BooleanField(required=False, initial=key in settings)
            self.fields[f"{key}__required"] = forms.BooleanField(required=False, initial=bool(item.get("required")))
            self.fields[f"{key}__label"] = forms.CharField(
                required=False, max_length=SHORT, initial=item.get("label", "")
            )
            self.fields[f"{key}__order"] = forms.IntegerField(
                required=False, min_value=0, max_value=9999, initial=(position[key] + 1) * 10
            )
        self.field_keys = sorted(self.catalogue, key=lambda key: position[key])

    def rows(self) -> list[FieldRow]:
        return [
            FieldRow(
                key=key,
                label=str(self.catalogue[key].label),
                ask=self[f"{key}__ask"],
                required=self[f"{key}__required"],
                custom_label=self[f"{key}__label"],
                order=self[f"{key}__order"],
            )
            for key in self.field_keys
        ]

    def consent_fields(self) -> list[BoundField]:
        return [self[f"consent_{channel}"] for channel in CONSENT_CHANNELS]

    def clean_slug(self) -> str:
        return _slug_clean(self, Action, str(_("form")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen = []
        for index, key in enumerate(self.field_keys):
            required = bool(data.get(f"{key}__required"))
            if not (data.get(f"{key}__ask") or required):  # "required" ticked alone means "ask it"
                continue
            order = data.get(f"{key}__order")
            sort_key = (order if order is not None else 10000, index)
            label = (data.get(f"{key}__label") or "").strip()
            chosen.append((sort_key, {"key": key, "required": required, "label": label}))
        self.chosen_fields = [item for _sort, item in sorted(chosen, key=lambda pair: pair[0])]
        self.instance.fields = self.chosen_fields
        if not any(item["key"] in ("email", "phone") for item in self.chosen_fields):
            self.fields_error = _(
                "Ask for the email address or the mobile phone (or both): without one, the campaign can neither "
                "reach the person nor recognise them when they come back."
            )
            raise ValidationError(self.fields_error, code="no_contact")
        if data.get("redirect_url") and data.get("thanks_message"):
            self.add_error(
                "redirect_url", _("Choose one: a thank-you message on the page, or a page to send people to.")
            )
        if data.get("autoreply_text") and not data.get("autoreply_subject"):
            self.add_error("autoreply_subject", _("The automatic reply needs a subject to be sent."))
        return data


# --- Events --------------------------------------------------------------------------------


class LocalDateTimeField(forms.DateTimeField):
    """A wall-clock date and time, kept naive: the form attaches the event's time zone
    (Django's own field would read it in the organiser's browser-less server zone)."""

    widget = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")
    input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]

    def to_python(self, value: Any) -> datetime.datetime | None:
        if value in self.empty_values:
            return None
        if isinstance(value, datetime.datetime):
            return value.replace(tzinfo=None)
        try:
            parsed = parse_datetime(str(value).strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise ValidationError(self.error_messages["invalid"], code="invalid")
        return parsed.replace(tzinfo=None)

    def prepare_value(self, value: Any) -> Any:
        return value


def in_zone(local: datetime.datetime, zone: zoneinfo.ZoneInfo) -> datetime.datetime:
    """The wall-clock time in that zone; a time skipped when clocks go forward is refused."""
    aware = local.replace(tzinfo=zone)
    if aware.astimezone(datetime.UTC).astimezone(zone).replace(tzinfo=None) != local:
        raise ValidationError(
            _("%(time)s does not exist in this time zone (the clocks change that night).")
            % {"time": local.strftime("%H:%M")}
        )
    return aware


def local_of(moment: datetime.datetime | None, zone: zoneinfo.ZoneInfo) -> datetime.datetime | None:
    return moment.astimezone(zone).replace(tzinfo=None, second=0, microsecond=0) if moment else None


def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones()) if "/" in name or name == "UTC"]


def member_users(campaign: Campaign) -> models.QuerySet[User]:
    return User.objects.filter(memberships__campaign=campaign).order_by("first_name", "last_name", "email")


def reminder_hours_parse(text: str) -> list[int | float]:
    hours: list[int | float] = []
    for part in re.split(r"[,;\s]+", text.strip()):
        if not part:
            continue
        try:
            value = float(part.replace("h", ""))
        except ValueError:
            raise ValidationError(
                _("“%(part)s” is not a number of hours: write them separated by commas, e.g. 24, 2.") % {"part": part}
            ) from None
        if not 0 < value <= MAX_REMINDER_HOURS:
            raise ValidationError(
                _("Reminders go between 0 and %(max)s hours before the event (“%(part)s”).")
                % {"max": MAX_REMINDER_HOURS, "part": part}
            )
        rounded = int(value) if value.is_integer() else value
        if rounded not in hours:
            hours.append(rounded)
    return sorted(hours, reverse=True)


class EventForm(forms.ModelForm):  # type: ignore[type-arg]
    starts_local = LocalDateTimeField(label=_("Starts"))
    ends_local = LocalDateTimeField(label=_("Ends"))
    reminders = forms.CharField(
        label=_("Reminders (hours before)"),
        required=False,
        max_length=100,
        help_text=_("Hours before the start, separated by commas, e.g. 24, 2. Empty: no reminder."),
    )
    tag_name = forms.CharField(
        label=_("Tag given"),
        required=False,
        max_length=80,
        help_text=_("Everyone who says they are coming gets this tag (created if new)."),
    )

    class Meta:
        model = Event
        formfield_callback = _formfield
        fields = [
            "title",
            "slug",
            "status",
            "description",
            "time_zone",
            "venue",
            "address",
            "latitude",
            "longitude",
            "online_url",
            "capacity",
            "waitlist",
            "organisers",
            "followup_hours",
            "followup_text",
        ]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 6}),
            "followup_text": forms.Textarea(attrs={"rows": 4}),
            "organisers": forms.CheckboxSelectMultiple,
        }
        help_texts = {
            "slug": _("In the public address; made from the title if left empty."),
            "time_zone": _("The start and end are read in this time zone."),
            "followup_hours": _("A message to those who came, this many hours after the end."),
        }

    field_order = ["title", "slug", "status", "description", "starts_local", "ends_local", "time_zone"]

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        event = self.instance
        self.fields["slug"].required = False
        self.fields["time_zone"] = forms.ChoiceField(
            label=_("Time zone"), choices=time_zone_choices(), help_text=self.fields["time_zone"].help_text
        )
        if not event.pk:
            self.initial.setdefault("time_zone", campaign.time_zone)
        self.fields["organisers"].queryset = member_users(campaign)  # type: ignore[attr-defined]
        self.fields["organisers"].help_text = _("Members of this campaign.")
        self.fields["latitude"].widget.attrs.update(step="any", min=-90, max=90)
        self.fields["longitude"].widget.attrs.update(step="any", min=-180, max=180)
        if event.pk:
            zone = event.zone
            self.initial.setdefault("starts_local", local_of(event.starts_at, zone))
            self.initial.setdefault("ends_local", local_of(event.ends_at, zone))
            self.initial.setdefault("reminders", ", ".join(str(hours) for hours in event.reminder_hours))
        self.fields["tag_name"].initial = _tag_initial(event)
        from suffrage.engagement.services import wordings_current

        texts = {w.channel: w.text for w in wordings_current(event)} if event.pk else default_consents(campaign)
        _add_consent_fields(self, texts)

    def consent_fields(self) -> list[BoundField]:
        return [self[f"consent_{channel}"] for channel in CONSENT_CHANNELS]

    def clean_slug(self) -> str:
        return _slug_clean(self, Event, str(_("event")))

    def clean_reminders(self) -> list[int | float]:
        return reminder_hours_parse(self.cleaned_data.get("reminders") or "")

    def clean_latitude(self) -> float | None:
        return _in_range(self.cleaned_data.get("latitude"), 90)

    def clean_longitude(self) -> float | None:
        return _in_range(self.cleaned_data.get("longitude"), 180)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        zone_name = data.get("time_zone")
        if not zone_name:
            return data
        zone = zoneinfo.ZoneInfo(zone_name)
        for local, target in (("starts_local", "starts_at"), ("ends_local", "ends_at")):
            if data.get(local) is None:
                continue
            try:
                data[target] = in_zone(data[local], zone)
            except ValidationError as error:
                self.add_error(local, error)
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] < data["starts_at"]:
            self.add_error("ends_local", _("An event cannot end before it starts."))
        if (data.get("latitude") is None) != (data.get("longitude") is None):
            self.add_error("longitude", _("Give both the latitude and the longitude, or neither."))
        # Not model fields of the form: set on the instance here (construct_instance leaves them alone).
        self.instance.starts_at = data.get("starts_at", self.instance.starts_at)
        self.instance.ends_at = data.get("ends_at", self.instance.ends_at)
        self.instance.reminder_hours = data.get("reminders", self.instance.reminder_hours)
        return data


def _in_range(value: float | None, limit: int) -> float | None:
    if value is not None and not -limit <= value <= limit:
        raise ValidationError(_("Between -%(limit)s and %(limit)s.") % {"limit": limit})
    return value


# --- Calls to action -------------------------------------------------------------------------


class CallForm(forms.ModelForm):  # type: ignore[type-arg]
    starts_local = LocalDateTimeField(label=_("Shift starts"), required=False)
    ends_local = LocalDateTimeField(label=_("Shift ends"), required=False)

    class Meta:
        model = CallToAction
        formfield_callback = _formfield
        fields = ["kind", "status", "title", "slug", "description", "url", "event", "slots"]
        widgets = {"description": forms.Textarea(attrs={"rows": 5})}
        help_texts = {
            "slug": _("In the public address; made from the title if left empty."),
            "url": _("Donations: the payment page of the campaign's financial agent. Shares: the page to share."),
            "event": _("For “Come to an event”."),
            "slots": _("Shifts: how many volunteers are needed. Empty: no limit."),
        }

    field_order = ["kind", "status", "title", "slug", "description", "url", "event", "starts_local", "ends_local"]

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign
        self.zone = zoneinfo.ZoneInfo(campaign.time_zone)
        self.fields["slug"].required = False
        self.fields["event"].queryset = Event.objects.filter(campaign=campaign)  # type: ignore[attr-defined]
        for local, stored in (("starts_local", "starts_at"), ("ends_local", "ends_at")):
            self.fields[local].help_text = _("In the campaign's time zone (%(zone)s).") % {"zone": campaign.time_zone}
            if self.instance.pk:
                self.initial.setdefault(local, local_of(getattr(self.instance, stored), self.zone))

    def clean_slug(self) -> str:
        return _slug_clean(self, CallToAction, str(_("call to action")))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for local in ("starts_local", "ends_local"):
            if data.get(local) is not None:
                try:
                    data[local] = in_zone(data[local], self.zone)
                except ValidationError as error:
                    self.add_error(local, error)
        starts, ends = data.get("starts_local"), data.get("ends_local")
        if starts and ends and "starts_local" not in self.errors and "ends_local" not in self.errors and ends < starts:
            self.add_error("ends_local", _("A shift cannot end before it starts."))
        if data.get("kind") == CallToAction.Kind.EVENT and not data.get("event"):
            self.add_error("event", _("Choose the event."))
        if data.get("kind") == CallToAction.Kind.SHIFT and not starts:
            self.add_error("starts_local", _("A shift needs its start."))
        self.instance.starts_at = starts if isinstance(starts, datetime.datetime) and starts.tzinfo else None
        self.instance.ends_at = ends if isinstance(ends, datetime.datetime) and ends.tzinfo else None
        return data


# --- Check-in ------------------------------------------------------------------------------


class CheckinSearchForm(forms.Form):
    q = forms.CharField(label=_("Name"), required=False, max_length=100)


class WalkInForm(forms.Form):
    first_names = forms.CharField(label=_("First name"), max_length=SHORT, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=SHORT, required=False)
    email = forms.CharField(
        label=_("Email address"), max_length=254, required=False, widget=forms.EmailInput(attrs={"autocomplete": "off"})
    )
    phone = forms.CharField(
        label=_("Mobile phone"), max_length=30, required=False, widget=forms.TextInput(attrs={"type": "tel"})
    )

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.campaign = campaign

    def clean_email(self) -> str:
        try:
            return normalise_email(self.cleaned_data.get("email") or "")
        except InvalidValue as error:
            raise ValidationError(str(error)) from None

    def clean_phone(self) -> Any:
        try:
            return normalise_phone(self.cleaned_data.get("phone") or "", default_region=self.campaign.country)
        except InvalidValue as error:
            raise ValidationError(str(error)) from None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        if not (data.get("first_names") or data.get("last_name")):
            raise ValidationError(_("Give the person's name."))
        if not (data.get("email") or data.get("phone")):
            raise ValidationError(
                _("Give an email address or a phone number: it is how the person is recognised next time.")
            )
        return data


# --- Public site -----------------------------------------------------------------------------


class SiteForm(forms.ModelForm):  # type: ignore[type-arg]
    logo_file = forms.FileField(
        label=_("Logo"),
        required=False,
        help_text=_("PNG, JPEG or WebP, 200 kB at most."),
        widget=forms.ClearableFileInput(attrs={"accept": "image/png,image/jpeg,image/webp"}),
    )
    logo_remove = forms.BooleanField(label=_("Remove the logo"), required=False)

    class Meta:
        model = PublicSite
        formfield_callback = _formfield
        fields = ["title", "intro", "colour", "notice", "allowed_origins", "proof_of_work"]
        widgets = {
            "colour": forms.TextInput(attrs={"type": "color"}),
            "intro": forms.Textarea(attrs={"rows": 5}),
            "notice": forms.Textarea(attrs={"rows": 8}),
            "allowed_origins": forms.Textarea(attrs={"rows": 3, "placeholder": "https://www.example.fr"}),
        }

    def clean_colour(self) -> str:
        colour = (self.cleaned_data.get("colour") or "").strip().lower()
        if not re.fullmatch(r"#[0-9a-f]{6}", colour):
            raise ValidationError(_("A colour is written #rrggbb, e.g. #1d4ed8."))
        return colour

    def clean_allowed_origins(self) -> str:
        lines = []
        for number, line in enumerate((self.cleaned_data.get("allowed_origins") or "").splitlines(), start=1):
            origin = line.strip().rstrip("/").lower()
            if not origin:
                continue
            if not ORIGIN.fullmatch(origin):
                raise ValidationError(
                    _(
                        "Line %(number)s, “%(line)s”, is not a website origin: write https:// and the host name, "
                        "with a port if any, and nothing after (e.g. https://www.example.fr)."
                    )
                    % {"number": number, "line": line.strip()[:100]}
                )
            port = origin.rsplit(":", 1)[1] if origin.count(":") == 2 else ""
            if port and not 0 < int(port) < 65536:
                raise ValidationError(
                    _("Line %(number)s, “%(line)s”: the port must be between 1 and 65535.")
                    % {"number": number, "line": line.strip()[:100]}
                )
            if origin not in lines:
                lines.append(origin)
        return "\n".join(lines)

    def clean_logo_file(self) -> tuple[bytes, str] | None:
        upload = self.cleaned_data.get("logo_file")
        if not upload:
            return None
        if upload.size > LOGO_MAX_BYTES:
            raise ValidationError(
                _("The logo weighs %(size)s kB; 200 kB at most.") % {"size": (upload.size + 1023) // 1024}
            )
        content = upload.read()
        return content, logo_type(content)


def logo_type(content: bytes) -> str:
    """The content type of a PNG, JPEG or WebP image, checked by decoding it (an SVG,
    which may carry scripts, or a renamed file is refused)."""
    from PIL import Image, UnidentifiedImageError

    error = ValidationError(_("The logo must be a PNG, JPEG or WebP image."))
    try:
        with Image.open(io.BytesIO(content)) as image:
            image_format = image.format or ""
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise error from None
    if image_format not in LOGO_TYPES:
        raise error
    return LOGO_TYPES[image_format]
