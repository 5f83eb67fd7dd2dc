"""Pages citizens reach without an account, under /e/<campaign_slug>/: the campaign's
microsite (forms, petitions, events and their tickets, calls to action), the same
pages embedded in the candidate's own website (`?embed=1`), and the JSON signup
endpoint for sites that post their own forms.

Public POSTs are csrf_exempt: in a cross-site iframe the browser does not send the
CSRF cookie. Each form carries instead a signed token of the page it was shown on
(valid a day, naming the consent wordings shown), and, when the site asks for it,
a proof of work computed by the browser. Every POST is rate-limited per address and
per form; a honeypot field catches the robots that fill every field."""

from __future__ import annotations

import calendar as month_calendar
import datetime
import functools
import hashlib
import json
import re
import secrets
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import segno
from django import forms
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    JsonResponse,
)
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from suffrage.core.models import Campaign
from suffrage.core.ratelimit import client_ip, too_many
from suffrage.engagement import services
from suffrage.engagement.calendar import event_ics
from suffrage.engagement.fields import PublicForm, build_form
from suffrage.engagement.models import (
    RSVP,
    Action,
    CallToAction,
    ConsentWording,
    Event,
    PublicSite,
    Response,
    Status,
    Submission,
)
from suffrage.messaging.rendering import markdown_to_html
from suffrage.people.models import Channel
from suffrage.people.services import tag_get_or_create

# Submissions a minute from one address to one form, and accepted submissions a minute
# to one form from all addresses together (a distributed flood stops there).
PER_IP_LIMIT = 10
PER_FORM_LIMIT = 300
# The JSON endpoint may be called by the candidate's server: one address for everyone.
API_PER_IP_LIMIT = 60
API_MAX_BYTES = 20 * 1024
API_MAX_TAGS = 10
# A form's token is valid a day; a proof-of-work challenge 15 minutes, once.
FORM_TOKEN_AGE = 24 * 3600
POW_AGE = 15 * 60
POW_BITS = 16

EVENT_FIELDS = [
    {"key": "first_names", "required": True},
    {"key": "last_name", "required": False},
    {"key": "email", "required": True},
    {"key": "phone", "required": False},
]
SHIFT_FIELDS = [
    {"key": "first_names", "required": True},
    {"key": "last_name", "required": True},
    {"key": "email", "required": True},
    {"key": "phone", "required": False},
]

HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
ORIGIN = re.compile(r"^https?://[a-z0-9.-]+(:[0-9]{1,5})?$")
LOGO_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"}


# --- Share links (plain links: no third-party script or image on our pages) ------------------


def _share_email(url: str, text: str) -> str:
    return "mailto:?" + urlencode({"subject": text, "body": f"{text}\n{url}"}, quote_via=quote)


SHARE_NETWORKS: dict[str, tuple[str, Callable[[str, str], str]]] = {
    "email": ("Email", _share_email),
    "whatsapp": ("WhatsApp", lambda url, text: "https://wa.me/?" + urlencode({"text": f"{text} {url}"})),
    "facebook": ("Facebook", lambda url, text: "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})),
    "x": ("X (Twitter)", lambda url, text: "https://x.com/intent/tweet?" + urlencode({"url": url, "text": text})),
    "bluesky": ("Bluesky", lambda url, text: "https://bsky.app/intent/compose?" + urlencode({"text": f"{text} {url}"})),
    "linkedin": (
        "LinkedIn",
        lambda url, text: "https://www.linkedin.com/sharing/share-offsite/?" + urlencode({"url": url}),
    ),
}


def network_name(key: str) -> str:
    return _("Email") if key == "email" else SHARE_NETWORKS[key][0]


def share_links(url: str, text: str) -> list[tuple[str, str]]:
    """(network's name, share address) for a page."""
    return [(network_name(key), build(url, text)) for key, (_name, build) in SHARE_NETWORKS.items()]


class _Redirect(HttpResponseRedirect):
    allowed_schemes = ["http", "https", "mailto"]


# --- What every public page knows ------------------------------------------------------------


def allowed_origins(site: PublicSite) -> list[str]:
    """The candidate's websites, each a plain origin (anything else would inject into
    the CSP header or widen CORS): `https://www.example.fr`, no path."""
    return [origin.lower() for origin in site.origins() if ORIGIN.match(origin.lower())]


def _luminance(colour: str) -> float:
    def channel(value: int) -> float:
        c = value / 255
        return c / 12.92 if c <= 0.03928 else float(((c + 0.055) / 1.055) ** 2.4)

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * channel(red) + 0.7152 * channel(green) + 0.0722 * channel(blue)


def _contrast(first: str, second: str) -> float:
    light, dark = sorted((_luminance(first), _luminance(second)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def site_colours(colour: str) -> dict[str, str]:
    """The campaign's colour, the text colour readable on it, and a link colour readable
    on white (darkened until it reaches WCAG AA's 4.5:1)."""
    brand = colour if HEX_COLOUR.match(colour or "") else "#1d4ed8"
    on_brand = "#ffffff" if _contrast(brand, "#ffffff") >= _contrast(brand, "#111111") else "#111111"
    link = brand
    while _contrast(link, "#ffffff") < 4.5:
        link = "#" + "".join(f"{int(int(link[i : i + 2], 16) * 0.85):02x}" for i in (1, 3, 5))
    return {"brand": brand, "on_brand": on_brand, "link": link}


def _languages(campaign: Campaign) -> list[str]:
    known = dict(settings.LANGUAGES)
    chosen = [code for code in (campaign.languages or []) if code in known]
    return chosen or [settings.LANGUAGE_CODE]


@dataclass
class Public:
    """Whose site, in which language, embedded in the candidate's page or not."""

    request: HttpRequest
    campaign: Campaign
    site: PublicSite
    lang: str
    languages: list[str]
    embed: bool
    lang_chosen: bool  # ?lang= given: links keep it

    @property
    def title(self) -> str:
        return self.site.title or self.campaign.name

    @property
    def query(self) -> str:
        params = {"embed": "1"} if self.embed else {}
        if self.lang_chosen:
            params["lang"] = self.lang
        return f"?{urlencode(params)}" if params else ""

    def url(self, name: str, *args: Any, **extra: str) -> str:
        """A public page's address, keeping the embed mode and the chosen language."""
        return _add_query(reverse(f"engagement_public:{name}", args=[self.campaign.slug, *args]) + self.query, extra)

    def absolute(self, name: str, *args: Any) -> str:
        """The address to share or to post to from elsewhere: never embedded."""
        return settings.SITE_URL + reverse(f"engagement_public:{name}", args=[self.campaign.slug, *args])

    @property
    def switch(self) -> list[dict[str, str]]:
        names = {"fr": "Français", "en": "English"}
        links = []
        for code in self.languages:
            params = {"embed": "1"} if self.embed else {}
            links.append(
                {
                    "code": code,
                    "name": names.get(code, code),
                    "url": f"{self.request.path}?{urlencode({**params, 'lang': code})}",
                    "current": "1" if code == self.lang else "",
                }
            )
        return links if len(links) > 1 else []

    @functools.cached_property
    def colours(self) -> dict[str, str]:
        return site_colours(self.site.colour)

    @functools.cached_property
    def logo_url(self) -> str:
        if not self.site.logo:
            return ""
        version = hashlib.sha256(bytes(self.site.logo)).hexdigest()[:12]
        return reverse("engagement_public:logo", args=[self.campaign.slug]) + f"?v={version}"

    @functools.cached_property
    def notice(self) -> SafeString:
        """The information notice under every form (GDPR art. 13)."""
        if self.site.notice.strip():
            return mark_safe(markdown_to_html(self.site.notice))  # escape=True: the campaign's text, escaped
        return mark_safe("")

    @property
    def privacy_url(self) -> str:
        return reverse("privacy_public", args=[self.campaign.slug])


def _add_query(url: str, params: dict[str, str]) -> str:
    if not params:
        return url
    return url + ("&" if "?" in url else "?") + urlencode(params)


def _public(request: HttpRequest, campaign: Campaign) -> Public:
    languages = _languages(campaign)
    asked = request.GET.get("lang", "")
    lang, chosen = languages[0], False
    if asked in languages:
        lang, chosen = asked, True
    elif request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) or request.META.get("HTTP_ACCEPT_LANGUAGE"):
        detected = translation.get_language_from_request(request)
        if detected in languages:
            lang = detected
    return Public(
        request=request,
        campaign=campaign,
        site=services.site_for(campaign),
        lang=lang,
        languages=languages,
        embed=request.GET.get("embed") == "1",
        lang_chosen=chosen,
    )


def _content_security_policy(ancestors: str) -> str:
    images = ["'self'", "data:"]
    if settings.MAP_TILES_URL:
        parts = urlsplit(settings.MAP_TILES_URL.replace("{s}", "*"))
        images.append(f"{parts.scheme}://{parts.netloc}")
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self' 'unsafe-inline'",
            f"img-src {' '.join(images)}",
            "object-src 'none'",
            "base-uri 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )


def _frame_policy(response: HttpResponseBase, public: Public) -> None:
    """Embedded pages may be framed by our own pages and the candidate's websites only;
    every other public page keeps X-Frame-Options: DENY."""
    if public.embed:
        response.xframe_options_exempt = True  # type: ignore[attr-defined]
        ancestors = " ".join(["'self'", *allowed_origins(public.site)])
    else:
        ancestors = "'none'"
    response["Content-Security-Policy"] = _content_security_policy(ancestors)


PublicView = Callable[..., HttpResponseBase]


def public_view(view: PublicView) -> PublicView:
    """Resolve the campaign (404 if unknown), the language and the embed mode; the view
    receives `public` in place of the campaign's slug."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, campaign_slug: str, **kwargs: Any) -> HttpResponseBase:
        campaign = get_object_or_404(Campaign, slug=campaign_slug)
        public = _public(request, campaign)
        with translation.override(public.lang):
            response = view(request, public, **kwargs)
        response.setdefault("Content-Language", public.lang)
        _frame_policy(response, public)
        return response

    return csrf_exempt(wrapper)


def _page(
    request: HttpRequest, public: Public, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return render(request, f"engagement/public/{template}", {"public": public, **context}, status=status)


def _limited(request: HttpRequest, public: Public) -> HttpResponse:
    return _page(request, public, "limited.html", {}, status=429)


# --- Abuse: tokens, proof of work, rate limits ----------------------------------------------


def form_token(owner: str, wordings: list[ConsentWording]) -> str:
    """Signed proof that the form was shown by us, with the consent wordings it showed."""
    return signing.dumps({"o": owner, "w": sorted(w.pk for w in wordings)}, salt=f"engagement.form:{owner}")


def form_token_check(owner: str, token: str, wordings: list[ConsentWording]) -> str | None:
    """None when the token is ours, for this form, recent, and the wordings have not changed."""
    try:
        payload = signing.loads(token, salt=f"engagement.form:{owner}", max_age=FORM_TOKEN_AGE)
    except signing.SignatureExpired:
        return _("This page was open for too long: check your answers and send them again.")
    except signing.BadSignature:
        return _("This form did not come from our page: check your answers and send them again.")
    if not isinstance(payload, dict) or payload.get("o") != owner:
        return _("This form did not come from our page: check your answers and send them again.")
    if payload.get("w") != sorted(w.pk for w in wordings):
        return _("The wording of the consent boxes has just changed: read them again and send the form again.")
    return None


def _pow_signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt="engagement.pow")


def pow_challenge(bits: int = POW_BITS) -> str:
    """A random, signed, dated challenge: the browser finds a nonce such that
    sha256(challenge + ":" + nonce) starts with `bits` zero bits."""
    return _pow_signer().sign(f"{secrets.token_hex(8)}.{bits}")


def pow_solves(challenge: str, nonce: str, bits: int) -> bool:
    digest = hashlib.sha256(f"{challenge}:{nonce}".encode()).digest()
    return int.from_bytes(digest, "big") >> (256 - bits) == 0


def pow_check(challenge: str, nonce: str) -> str | None:
    """None when the nonce solves a challenge of ours, less than 15 minutes old, used once."""
    try:
        value = _pow_signer().unsign(challenge, max_age=POW_AGE)
    except signing.SignatureExpired:
        return _("The anti-robot check has expired: send the form again.")
    except signing.BadSignature:
        return _("This form needs JavaScript to send: turn it on, or use another browser.")
    random_part, _sep, bits = value.partition(".")
    if not bits.isdigit() or len(nonce) > 40 or not pow_solves(challenge, nonce, int(bits)):
        return _("This form needs JavaScript to send: turn it on, or use another browser.")
    if not cache.add(f"engagement-pow:{random_part}", 1, timeout=POW_AGE + 60):
        return _("This anti-robot check was already used: send the form again.")
    return None


def _guard_problem(request: HttpRequest, public: Public, owner: str, wordings: list[ConsentWording]) -> str | None:
    problem = form_token_check(owner, request.POST.get("_token", ""), wordings)
    if problem is None and public.site.proof_of_work:
        problem = pow_check(request.POST.get("_pow_challenge", ""), request.POST.get("_pow_nonce", ""))
    return problem


def _guard_context(public: Public, owner: str, wordings: list[ConsentWording]) -> dict[str, Any]:
    return {
        "form_token": form_token(owner, wordings),
        "pow_challenge": pow_challenge() if public.site.proof_of_work else "",
    }


def _ip_limited(request: HttpRequest, owner: str) -> bool:
    return too_many(request, f"engagement:{owner}", limit=PER_IP_LIMIT)


def form_ceiling_reached(owner: str) -> bool:
    """Counts accepted submissions to one form from every address (a fixed window)."""
    key = f"engagement-ceiling:{owner}:{int(time.time() // 60)}"
    if cache.add(key, 1, timeout=61):
        return False
    try:
        return int(cache.incr(key)) > PER_FORM_LIMIT
    except ValueError:  # expired between add and incr
        return False


# Browsers fill these from the person's card (on a phone, one tap instead of typing).
AUTOCOMPLETE = {
    "civility": "honorific-prefix",
    "first_names": "given-name",
    "last_name": "family-name",
    "email": "email",
    "phone": "tel",
    "birth_date": "bday",
    "street": "street-address",
    "postcode": "postal-code",
    "town": "address-level2",
}


def _prepare(form: PublicForm) -> PublicForm:
    """Autocomplete hints, and the honeypot out of reach of people and their keyboards
    (the template also hides it from screen readers)."""
    for name, hint in AUTOCOMPLETE.items():
        if name in form.fields:
            form.fields[name].widget.attrs.setdefault("autocomplete", hint)
    form.fields["website"] = forms.CharField(
        required=False,
        max_length=200,
        label=_("Leave this empty"),
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    return form


def _ip(request: HttpRequest) -> str | None:
    return client_ip(request) or None


def _via(public: Public) -> str:
    return "embed" if public.embed else "page"


# `?via=` on a link names where the visitor came from (a social post: "post-<code>-<network>").
# The form carries it in a hidden field to the submission or RSVP; views count per referral too.
REFERRAL = re.compile(r"^[A-Za-z0-9_-]{1,36}$")


def _referral(request: HttpRequest) -> str:
    value = (request.POST if request.method == "POST" else request.GET).get("via", "")
    return value if REFERRAL.match(value) else ""


def _viewed(request: HttpRequest, public: Public, owner: str) -> None:
    services.page_viewed(public.campaign, owner)
    referral = _referral(request)
    if referral:
        services.page_viewed(public.campaign, f"via:{referral}")


# --- Home, logo, embed script ----------------------------------------------------------------


@public_view
def home(request: HttpRequest, public: Public) -> HttpResponse:
    campaign, now = public.campaign, timezone.now()
    context = {
        "intro": mark_safe(markdown_to_html(public.site.intro)) if public.site.intro.strip() else "",
        "actions": Action.objects.filter(campaign=campaign, status=Status.OPEN)[:50],
        "events": Event.objects.filter(campaign=campaign, status=Event.Status.OPEN, ends_at__gte=now)[:20],
        "calls": CallToAction.objects.filter(campaign=campaign, status=Status.OPEN)[:20],
    }
    return _page(request, public, "home.html", context)


def logo(request: HttpRequest, campaign_slug: str) -> HttpResponse:
    """The campaign's logo, from the database, cached by browsers (its address changes with it)."""
    campaign = get_object_or_404(Campaign, slug=campaign_slug)
    site = services.site_for(campaign)
    if not site.logo:
        raise Http404
    content = bytes(site.logo)
    etag = f'"{hashlib.sha256(content).hexdigest()[:32]}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponse(status=304)
    else:
        kind = site.logo_type if site.logo_type in LOGO_TYPES else "application/octet-stream"
        response = HttpResponse(content, content_type=kind)
    response["ETag"] = etag
    response["Cache-Control"] = "public, max-age=86400"
    # An SVG opened on its own must not run anything on our origin.
    response["Content-Security-Policy"] = "default-src 'none'; style-src 'unsafe-inline'; sandbox"
    return response


@functools.cache
def _embed_script() -> bytes:
    return (Path(__file__).resolve().parents[1] / "static" / "engagement" / "embed.js").read_bytes()


def embed_js(request: HttpRequest, campaign_slug: str) -> HttpResponse:
    """The script the candidate's site includes: turns each
    `<div data-suffrage-embed="…">` into an iframe that follows its content's height."""
    get_object_or_404(Campaign, slug=campaign_slug)
    response = HttpResponse(_embed_script(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "public, max-age=3600"
    return response


# --- Forms and petitions ---------------------------------------------------------------------


def _action_or_404(public: Public, slug: str) -> Action:
    return get_object_or_404(
        Action.objects.exclude(status=Status.DRAFT).select_related("campaign"), campaign=public.campaign, slug=slug
    )


def _action_form(public: Public, action: Action, wordings: list[ConsentWording], data: Any = None) -> PublicForm:
    extra: dict[str, forms.Field] = {}
    if action.is_petition and action.public_signers:
        extra["show_name"] = forms.BooleanField(
            required=False, label=_("Show my name among the signers (first name and initial only)")
        )
    return _prepare(build_form(public.campaign, action.fields, wordings, data=data, extra=extra))


def signer_name(first_names: str, last_name: str) -> str:
    """The first of the first names and the initial of the last name: "Anne L."."""
    first = (first_names.split() or [""])[0]
    return f"{first} {last_name[:1].upper()}." if last_name else first


def _petition_context(action: Action) -> dict[str, Any]:
    if not action.is_petition:
        return {}
    count = services.signatures_count(action)
    signers = []
    if action.public_signers:
        shown = (
            Submission.objects.filter(action=action, status=Submission.Status.CONFIRMED, show_name=True)
            .select_related("person")
            .order_by("-created_at", "-pk")[:100]
        )
        signers = [signer_name(s.person.first_names, s.person.last_name) for s in shown]
    percent = min(100, round(100 * count / action.goal)) if action.goal else None
    return {"count": count, "signers": [name for name in signers if name], "percent": percent}


def _action_render(
    request: HttpRequest,
    public: Public,
    action: Action,
    form: PublicForm,
    wordings: list[ConsentWording],
    status: int = 200,
) -> HttpResponse:
    owner = f"action:{action.pk}"
    page_url = public.absolute("action", action.slug)
    context = {
        "action": action,
        "form": form,
        "description": mark_safe(markdown_to_html(action.description)) if action.description.strip() else "",
        "shares": share_links(page_url, action.title),
        "page_url": page_url,
        "form_url": public.url("action", action.slug),
        "referral": _referral(request),
        **_petition_context(action),
        **_guard_context(public, owner, wordings),
    }
    return _page(request, public, "action.html", context, status=status)


@public_view
def action_page(request: HttpRequest, public: Public, slug: str) -> HttpResponseBase:
    action = _action_or_404(public, slug)
    if action.status == Status.CLOSED:
        return _closed(request, public, action.title, {**_petition_context(action), "action": action})
    wordings = services.wordings_current(action)
    owner = f"action:{action.pk}"
    if request.method != "POST":
        _viewed(request, public, owner)
        return _action_render(request, public, action, _action_form(public, action, wordings), wordings)
    if _ip_limited(request, owner):
        return _limited(request, public)
    form = _action_form(public, action, wordings, data=request.POST)
    if form.is_bot:  # pretend: a robot learns nothing
        return HttpResponseRedirect(public.url("action_thanks", action.slug))
    problem = _guard_problem(request, public, owner, wordings)
    if problem:
        form.add_error(None, problem)
    elif form.is_valid():
        if form_ceiling_reached(owner):
            return _limited(request, public)
        try:
            submission = services.submission_record(
                action=action, data=form.cleaned_data, ip=_ip(request), via=_via(public), referral=_referral(request)
            )
        except services.Closed:
            return _closed(request, public, action.title, {"action": action}, status=410)
        if action.redirect_url and not public.embed:
            return HttpResponseRedirect(action.redirect_url)
        pending = {"pending": "1"} if submission.status == Submission.Status.PENDING else {}
        return HttpResponseRedirect(public.url("action_thanks", action.slug, **pending))
    return _action_render(request, public, action, form, wordings, status=400)


@public_view
def action_thanks(request: HttpRequest, public: Public, slug: str) -> HttpResponse:
    action = _action_or_404(public, slug)
    page_url = public.absolute("action", action.slug)
    context = {
        "action": action,
        "pending": request.GET.get("pending") == "1",
        "shares": share_links(page_url, action.title),
        "page_url": page_url,
    }
    return _page(request, public, "action_thanks.html", context)


def _closed(
    request: HttpRequest, public: Public, title: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    return _page(request, public, "closed.html", {"title": title, **context}, status=status)


@public_view
def confirm(request: HttpRequest, public: Public, secret: str) -> HttpResponse:
    """The double opt-in link. Opening it shows a button: link checkers of mail providers
    open every link of a message, and their visit must not count as the person's consent."""
    if too_many(request, "engagement-confirm", limit=30):
        return _limited(request, public)
    if request.method == "POST":
        submission = services.submission_confirm(campaign=public.campaign, secret=secret, ip=_ip(request))
        done = submission is not None
    else:
        submission = services.submission_for_secret(campaign=public.campaign, secret=secret)
        done = submission is not None and submission.status == Submission.Status.CONFIRMED
    context = {"submission": submission, "done": done, "secret": secret}
    response = _page(request, public, "confirm.html", context, status=200 if submission else 404)
    response["Cache-Control"] = "no-store"
    return response


# --- Events ----------------------------------------------------------------------------------


def _event_or_404(public: Public, slug: str) -> Event:
    return get_object_or_404(
        Event.objects.exclude(status=Event.Status.DRAFT).select_related("campaign"),
        campaign=public.campaign,
        slug=slug,
    )


def _months(events: list[Event], zone: Any) -> list[dict[str, Any]]:
    """Events grouped by month (in the campaign's time zone), each month with its grid."""
    months: dict[tuple[int, int], list[Event]] = {}
    for event in events:
        local = timezone.localtime(event.starts_at, zone)
        months.setdefault((local.year, local.month), []).append(event)
    weekdays = [WEEKDAYS_ABBR[day] for day in range(7)]
    result = []
    for (year, month), in_month in months.items():
        by_day: dict[datetime.date, list[Event]] = {}
        for event in in_month:
            by_day.setdefault(timezone.localtime(event.starts_at, zone).date(), []).append(event)
        weeks = [
            [{"day": day, "in_month": day.month == month, "events": by_day.get(day, [])} for day in week]
            for week in month_calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
        ]
        first = datetime.date(year, month, 1)
        result.append(
            {"label": date_format(first, "F Y"), "id": first.strftime("m%Y-%m"), "events": in_month, "weeks": weeks}
        )
    return [{**month, "weekdays": weekdays} for month in result]


@public_view
def events(request: HttpRequest, public: Public) -> HttpResponse:
    shown = [Event.Status.OPEN, Event.Status.CLOSED, Event.Status.CANCELLED]
    upcoming = list(
        Event.objects.filter(campaign=public.campaign, status__in=shown, ends_at__gte=timezone.now()).order_by(
            "starts_at", "pk"
        )[:200]
    )
    months = _months(upcoming, _zone(public.campaign.time_zone))
    return _page(request, public, "events.html", {"months": months, "events": upcoming})


def _zone(name: str) -> Any:
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def _rsvp_form(public: Public, wordings: list[ConsentWording], data: Any = None) -> PublicForm:
    guests = forms.IntegerField(label=_("People coming with you"), min_value=0, max_value=10, initial=0, required=False)
    return _prepare(build_form(public.campaign, EVENT_FIELDS, wordings, data=data, extra={"guests": guests}))


def _event_render(
    request: HttpRequest,
    public: Public,
    event: Event,
    form: PublicForm | None,
    wordings: list[ConsentWording],
    *,
    problem: str = "",
    booked: str = "",
    status: int = 200,
) -> HttpResponse:
    owner = f"event:{event.pk}"
    seats_left = None
    if event.capacity is not None:
        seats_left = max(0, event.capacity - services.seats_taken(event))
    page_url = public.absolute("event", event.slug)
    has_point = event.latitude is not None and event.longitude is not None
    context = {
        "event": event,
        "form": form,
        "problem": problem,
        "booked": booked,
        "takes_rsvps": _takes_rsvps(event),
        "description": mark_safe(markdown_to_html(event.description)) if event.description.strip() else "",
        "seats_left": seats_left,
        "map_tiles": settings.MAP_TILES_URL if has_point else "",
        "osm_url": (
            f"https://www.openstreetmap.org/?mlat={event.latitude:.6f}&mlon={event.longitude:.6f}"
            f"#map=17/{event.latitude:.6f}/{event.longitude:.6f}"
            if has_point
            else (
                "https://www.openstreetmap.org/search?" + urlencode({"query": event.address}) if event.address else ""
            )
        ),
        "shares": share_links(page_url, event.title),
        "page_url": page_url,
        "form_url": public.url("event", event.slug),
        "referral": _referral(request),
        **(_guard_context(public, owner, wordings) if form is not None else {}),
    }
    return _page(request, public, "event.html", context, status=status)


def _takes_rsvps(event: Event) -> bool:
    return event.status == Event.Status.OPEN and not event.is_past


@public_view
def event_page(request: HttpRequest, public: Public, slug: str) -> HttpResponseBase:
    event = _event_or_404(public, slug)
    owner = f"event:{event.pk}"
    wordings = services.wordings_current(event) if _takes_rsvps(event) else []
    if request.method != "POST":
        booked = request.GET.get("booked", "")
        if booked not in (RSVP.Status.GOING, RSVP.Status.WAITLIST):
            booked = ""
            _viewed(request, public, owner)
        form = _rsvp_form(public, wordings) if _takes_rsvps(event) else None
        return _event_render(request, public, event, form, wordings, booked=booked)
    if not _takes_rsvps(event):
        return _event_render(
            request, public, event, None, [], problem=_("This event no longer takes RSVPs."), status=410
        )
    if _ip_limited(request, owner):
        return _limited(request, public)
    form = _rsvp_form(public, wordings, data=request.POST)
    if form.is_bot:
        return HttpResponseRedirect(public.url("event", event.slug, booked=RSVP.Status.GOING))
    problem = _guard_problem(request, public, owner, wordings)
    if problem:
        form.add_error(None, problem)
        return _event_render(request, public, event, form, wordings, status=400)
    if not form.is_valid():
        return _event_render(request, public, event, form, wordings, status=400)
    if form_ceiling_reached(owner):
        return _limited(request, public)
    try:
        rsvp = services.rsvp_record(
            event=event,
            data=form.cleaned_data,
            ip=_ip(request),
            via=_via(public),
            guests=form.cleaned_data.get("guests") or 0,
            referral=_referral(request),
        )
    except services.EventFull:
        full = _("Sorry, the event is full: there is no seat left for you.")
        return _event_render(request, public, event, form, wordings, problem=full, status=409)
    except services.Closed:
        closed = _("This event no longer takes RSVPs.")
        return _event_render(request, public, event, None, [], problem=closed, status=410)
    # The ticket's link goes by email only: whoever typed an address here must not get
    # its owner's ticket (their earlier RSVP, a button to cancel it).
    return HttpResponseRedirect(public.url("event", event.slug, booked=rsvp.status))


@public_view
def event_calendar_file(request: HttpRequest, public: Public, slug: str) -> HttpResponse:
    event = _event_or_404(public, slug)
    response = HttpResponse(event_ics(event), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{event.slug}.ics"'
    return response


def checkin_url(campaign: Campaign, rsvp: RSVP) -> str:
    """What a ticket's QR code encodes: the organisers' check-in page for this RSVP (it
    asks them to sign in; anyone else scanning it learns nothing)."""
    path = reverse("engagement:checkin_token", kwargs={"campaign_slug": campaign.slug, "token": rsvp.token})
    return f"{settings.SITE_URL}{path}"


def qr_svg(text: str, label: str) -> SafeString:
    """A QR code as inline SVG (made here: no image service sees the ticket)."""
    svg = segno.make(text, error="m").svg_inline(scale=1, border=4, omitsize=True, title=label)
    return mark_safe(svg)  # generated by segno from an address of ours; `label` is escaped by segno


@public_view
def ticket(request: HttpRequest, public: Public, token: str) -> HttpResponseBase:
    """The RSVP's page, reached by the secret link in its confirmation: the QR code to
    show at the door, and a button to give the place back."""
    rsvp = get_object_or_404(RSVP.objects.select_related("event"), campaign=public.campaign, token=token)
    if request.method == "POST":
        if too_many(request, "engagement-ticket", limit=30):
            return _limited(request, public)
        if request.POST.get("cancel"):
            services.rsvp_cancel(rsvp=rsvp)
        return HttpResponseRedirect(public.url("ticket", rsvp.token))
    going = rsvp.status == RSVP.Status.GOING
    context = {
        "rsvp": rsvp,
        "event": rsvp.event,
        "going": going,
        "qr": qr_svg(checkin_url(public.campaign, rsvp), _("Ticket")) if going else "",
    }
    response = _page(request, public, "ticket.html", context)
    response["Cache-Control"] = "no-store"
    return response


# --- Calls to action -------------------------------------------------------------------------


def _call_or_404(public: Public, slug: str) -> CallToAction:
    return get_object_or_404(
        CallToAction.objects.exclude(status=Status.DRAFT).select_related("event"), campaign=public.campaign, slug=slug
    )


def _shift_form(public: Public, data: Any = None) -> PublicForm:
    return _prepare(build_form(public.campaign, SHIFT_FIELDS, [], data=data))


def _call_render(
    request: HttpRequest,
    public: Public,
    call: CallToAction,
    form: PublicForm | None,
    *,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    slots_left = None
    if call.kind == CallToAction.Kind.SHIFT and call.slots is not None:
        taken = Response.objects.filter(call=call, kind=Response.Kind.COMMIT).count()
        slots_left = max(0, call.slots - taken)
    go = reverse("engagement_public:call_go", args=[public.campaign.slug, call.slug])
    referral = {"via": _referral(request)} if _referral(request) else {}
    context = {
        "call": call,
        "form": form,
        "problem": problem,
        "taken": request.GET.get("taken") == "1",
        "slots_left": slots_left,
        "description": mark_safe(markdown_to_html(call.description)) if call.description.strip() else "",
        "go_url": go,
        "networks": [(network_name(key), f"{go}?to={key}") for key in SHARE_NETWORKS],
        "event_url": public.url("event", call.event.slug, **referral)
        if call.event is not None and call.event.status != Event.Status.DRAFT
        else "",
        "form_url": public.url("call", call.slug),
        **(_guard_context(public, f"call:{call.pk}", []) if form is not None else {}),
    }
    return _page(request, public, "call.html", context, status=status)


@public_view
def call_page(request: HttpRequest, public: Public, slug: str) -> HttpResponseBase:
    call = _call_or_404(public, slug)
    if call.status == Status.CLOSED:
        return _closed(request, public, call.title, {"call": call})
    owner = f"call:{call.pk}"
    shift = call.kind == CallToAction.Kind.SHIFT
    if request.method != "POST" or not shift:
        if request.method == "GET" and request.GET.get("taken") != "1":
            _viewed(request, public, owner)
        return _call_render(request, public, call, _shift_form(public) if shift else None)
    if _ip_limited(request, owner):
        return _limited(request, public)
    form = _shift_form(public, data=request.POST)
    if form.is_bot:
        return HttpResponseRedirect(public.url("call", call.slug, taken="1"))
    problem = _guard_problem(request, public, owner, [])
    if problem:
        form.add_error(None, problem)
        return _call_render(request, public, call, form, status=400)
    if not form.is_valid():
        return _call_render(request, public, call, form, status=400)
    if form_ceiling_reached(owner):
        return _limited(request, public)
    try:
        services.shift_take(call=call, data=form.cleaned_data, ip=_ip(request))
    except services.EventFull:
        full = _("Every place on this shift is taken. Thank you all the same!")
        return _call_render(request, public, call, form, problem=full, status=409)
    except services.Closed:
        return _closed(request, public, call.title, {"call": call}, status=410)
    return HttpResponseRedirect(public.url("call", call.slug, taken="1"))


@public_view
def call_go(request: HttpRequest, public: Public, slug: str) -> HttpResponseBase:
    """A tracked link. For a donation it records that the person followed the link to
    the financial agent's payment page: an intent, not a donation (the payment, and the
    donor's identity, stay with the payment page). For a share it records the network
    and sends to its share page. Views past 30 a minute from one address are not counted."""
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    call = get_object_or_404(CallToAction.objects.select_related("event"), campaign=public.campaign, slug=slug)
    if call.status != Status.OPEN:
        raise Http404
    detail = ""
    if call.kind == CallToAction.Kind.DONATE and call.url:
        target = call.url
    elif call.kind == CallToAction.Kind.SHARE:
        detail = request.GET.get("to", "")
        if detail not in SHARE_NETWORKS:
            return HttpResponse(_("Unknown network."), status=400, content_type="text/plain; charset=utf-8")
        page = call.url or public.absolute("call", call.slug)
        target = SHARE_NETWORKS[detail][1](page, call.title)
    elif call.kind == CallToAction.Kind.EVENT and call.event is not None and call.event.status != Event.Status.DRAFT:
        target = public.url("event", call.event.slug)
    else:
        raise Http404
    if not too_many(request, f"engagement-go:{call.pk}", limit=30):
        services.call_respond(call=call, kind=Response.Kind.CLICK, detail=detail)
    return _Redirect(target)


# --- The JSON signup endpoint (OSDI person_signup) -------------------------------------------

# Our form's fields, as OSDI paths (for error messages).
OSDI_PATHS = {
    "first_names": "person.given_name",
    "last_name": "person.family_name",
    "email": "person.email_addresses[0].address",
    "phone": "person.phone_numbers[0].number",
    "street": "person.postal_addresses[0].address_lines",
    "postcode": "person.postal_addresses[0].postal_code",
    "town": "person.postal_addresses[0].locality",
    "message": "message",
    "__all__": "person",
}


def _osdi_path(field: str) -> str:
    if field.startswith("custom:"):
        return f"person.custom_fields.{field.removeprefix('custom:')}"
    if field.startswith("consent_"):
        return "consents"
    return OSDI_PATHS.get(field, field)


class _Errors(dict[str, list[str]]):
    def add(self, path: str, message: str) -> None:
        self.setdefault(path, []).append(message)


def _text(errors: _Errors, path: str, value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    errors.add(path, _("Expected a text."))
    return None


def _first(errors: _Errors, path: str, value: Any) -> dict[str, Any]:
    """The first object of an OSDI list (we keep one email, one phone, one address)."""
    if value is None:
        return {}
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        errors.add(path, _("Expected a list of objects."))
        return {}
    return value[0] if value else {}


def signup_data(payload: Any) -> tuple[dict[str, Any], list[str], list[str], _Errors]:
    """An OSDI person_signup body as the public form's data: (data, consents, tags, errors)."""
    errors = _Errors()
    if not isinstance(payload, dict):
        errors.add("body", _("Expected a JSON object."))
        return {}, [], [], errors
    person = payload.get("person")
    if not isinstance(person, dict):
        errors.add("person", _("Expected an object."))
        person = {}
    values: dict[str, Any] = {
        "first_names": _text(errors, "person.given_name", person.get("given_name")),
        "last_name": _text(errors, "person.family_name", person.get("family_name")),
        "message": _text(errors, "message", payload.get("message")),
    }
    email = _first(errors, "person.email_addresses", person.get("email_addresses"))
    values["email"] = _text(errors, "person.email_addresses[0].address", email.get("address"))
    phone = _first(errors, "person.phone_numbers", person.get("phone_numbers"))
    values["phone"] = _text(errors, "person.phone_numbers[0].number", phone.get("number"))
    address = _first(errors, "person.postal_addresses", person.get("postal_addresses"))
    lines = address.get("address_lines")
    if lines is not None:
        if isinstance(lines, list) and all(isinstance(line, str) for line in lines):
            values["street"] = ", ".join(line.strip() for line in lines if line.strip())
        else:
            errors.add("person.postal_addresses[0].address_lines", _("Expected a list of texts."))
    values["postcode"] = _text(errors, "person.postal_addresses[0].postal_code", address.get("postal_code"))
    values["town"] = _text(errors, "person.postal_addresses[0].locality", address.get("locality"))
    custom = person.get("custom_fields") or {}
    if not isinstance(custom, dict):
        errors.add("person.custom_fields", _("Expected an object."))
        custom = {}
    for key, value in custom.items():
        if isinstance(value, str | bool | int | float) or (
            isinstance(value, list) and all(isinstance(item, str) for item in value)
        ):
            values[f"custom:{key}"] = value
        else:
            errors.add(
                f"person.custom_fields.{key}", _("Expected a text, a number, true or false, or a list of texts.")
            )
    consents = payload.get("consents") or []
    if not isinstance(consents, list) or not all(isinstance(item, str) for item in consents):
        errors.add("consents", _('Expected a list of channels, e.g. ["email"].'))
        consents = []
    tags = payload.get("add_tags") or []
    if not isinstance(tags, list) or not all(isinstance(item, str) and 0 < len(item.strip()) <= 80 for item in tags):
        errors.add("add_tags", _("Expected a list of tag names (80 characters at most)."))
        tags = []
    elif len(tags) > API_MAX_TAGS:
        errors.add("add_tags", _("At most %(count)d tags.") % {"count": API_MAX_TAGS})
    data = {key: value for key, value in values.items() if value is not None}
    return data, consents, tags, errors


def _json(payload: dict[str, Any], status: int, cors: dict[str, str]) -> JsonResponse:
    response = JsonResponse(payload, status=status)
    for header, value in cors.items():
        response[header] = value
    response["Vary"] = "Origin"
    response["Cache-Control"] = "no-store"
    return response


def signup_echo(public: Public, action: Action, cleaned: dict[str, Any]) -> dict[str, Any]:
    """What we answer: the submitted values as we understood them, OSDI-shaped. Never
    the stored person nor an id: the key is public, the base must not be probed."""
    echo: dict[str, Any] = {
        "given_name": cleaned.get("first_names") or "",
        "family_name": cleaned.get("last_name") or "",
        "email_addresses": [{"address": cleaned["email"], "primary": True}] if cleaned.get("email") else [],
        "_links": {"osdi:form": {"href": public.absolute("action", action.slug)}},
    }
    if cleaned.get("phone") is not None:
        echo["phone_numbers"] = [{"number": cleaned["phone"].e164, "primary": True}]
    return echo


@csrf_exempt  # called from other sites, by scripts: the key in the header is the credential
def person_signup(request: HttpRequest, campaign_slug: str) -> HttpResponse:
    """POST an OSDI person_signup body, with `form` (the action's slug) and `consents`
    (the channels whose current wording the site showed and the person ticked).
    Header `OSDI-API-Token: <the site's signup key>`. Browsers may call it from the
    campaign's allowed origins only (CORS)."""
    campaign = get_object_or_404(Campaign, slug=campaign_slug)
    public = _public(request, campaign)
    origin = (request.headers.get("Origin") or "").lower()
    allowed = bool(origin) and origin in allowed_origins(public.site)
    cors = {"Access-Control-Allow-Origin": origin} if allowed else {}
    if request.method == "OPTIONS":
        if not allowed:
            return HttpResponse(status=403)
        response = HttpResponse(status=204)
        for header, value in cors.items():
            response[header] = value
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type, OSDI-API-Token"
        response["Access-Control-Max-Age"] = "600"
        response["Vary"] = "Origin"
        return response
    if request.method != "POST":
        return _json({"errors": {"method": [_("Use POST.")]}}, 405, cors)
    if origin and not allowed:
        return _json({"errors": {"origin": [_("This website may not post to this campaign.")]}}, 403, cors)
    if too_many(request, "engagement-api", limit=API_PER_IP_LIMIT):
        return _json({"errors": {"request": [_("Too many requests: try again in a minute.")]}}, 429, cors)
    key = request.headers.get("OSDI-API-Token", "")
    if not secrets.compare_digest(key.encode(), public.site.api_key.encode()):
        return _json({"errors": {"OSDI-API-Token": [_("Missing or wrong key.")]}}, 401, cors)
    too_big = {"errors": {"body": [_("The request is larger than %(size)d bytes.") % {"size": API_MAX_BYTES}]}}
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > API_MAX_BYTES:
        return _json(too_big, 413, cors)
    body = request.read(API_MAX_BYTES + 1)
    if len(body) > API_MAX_BYTES:
        return _json(too_big, 413, cors)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _json({"errors": {"body": [_("The body is not valid JSON.")]}}, 400, cors)
    with translation.override(public.lang):
        return _signup(request, public, payload, cors)


def _signup(request: HttpRequest, public: Public, payload: Any, cors: dict[str, str]) -> HttpResponse:
    data, consents, tags, errors = signup_data(payload)
    slug = payload.get("form") if isinstance(payload, dict) else None
    action = None
    if not isinstance(slug, str) or not slug:
        errors.add("form", _("Name the form this signup belongs to (its short name in addresses)."))
    else:
        action = Action.objects.filter(campaign=public.campaign, slug=slug, status=Status.OPEN).first()
        if action is None:
            errors.add("form", _("No open form with this name."))
    if action is None:
        return _json({"errors": errors}, 400, cors)
    wordings = services.wordings_current(action)
    shown = {wording.channel for wording in wordings}
    for channel in consents:
        if channel not in shown:
            label = dict(Channel.choices).get(channel, channel)
            errors.add("consents", _("This form has no consent wording for %(channel)s.") % {"channel": label})
        else:
            data[f"consent_{channel}"] = True
    form = build_form(public.campaign, action.fields, wordings, data=data)
    if not form.is_valid():
        for field, messages in form.errors.items():
            for message in messages:
                errors.add(_osdi_path(field), str(message))
    if errors:
        return _json({"errors": errors}, 400, cors)
    owner = f"action:{action.pk}"
    if form_ceiling_reached(owner):
        return _json({"errors": {"request": [_("Too many requests: try again in a minute.")]}}, 429, cors)
    try:
        with transaction.atomic():
            submission = services.submission_record(action=action, data=form.cleaned_data, ip=_ip(request), via="api")
            if tags:
                submission.person.tags.add(*(tag_get_or_create(public.campaign, name) for name in tags))
    except services.Closed:
        return _json({"errors": {"form": [_("This form is closed.")]}}, 400, cors)
    return _json(signup_echo(public, action, form.cleaned_data), 201, cors)
