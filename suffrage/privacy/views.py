"""Privacy pages: the officer's dashboard of rights requests and each request's page
(find the person, give their data, review and erase, stop all contact); the public
page where a citizen asks, and the confirmation link's page."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, Membership
from suffrage.core.ratelimit import client_ip, too_many
from suffrage.imports.normalise import InvalidValue, normalise_phone
from suffrage.people.models import Person
from suffrage.privacy import services
from suffrage.privacy.models import RightsRequest

PUBLIC_KINDS = [
    (RightsRequest.Kind.ACCESS, gettext_lazy("See the data held about me")),
    (RightsRequest.Kind.OBJECTION, gettext_lazy("Never be contacted again")),
    (RightsRequest.Kind.ERASURE, gettext_lazy("Erase my data")),
]


class RequestForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = RightsRequest
        fields = ["kind", "channel", "requester_name", "contact_email", "contact_phone", "details", "received_at"]
        widgets = {
            "received_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "details": forms.Textarea(attrs={"rows": 3}),
        }


class RequestUpdateForm(forms.ModelForm):  # type: ignore[type-arg]
    person_id = forms.IntegerField(label=gettext_lazy("Person's number"), required=False)

    class Meta:
        model = RightsRequest
        fields = ["status", "assignee", "outcome"]
        widgets = {"outcome": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args: Any, campaign: Campaign, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        officers = Membership.objects.filter(campaign=campaign, role__in=["owner", "dpo"]).values("user")
        self.fields["assignee"].queryset = self.fields["assignee"].queryset.filter(pk__in=officers)  # type: ignore[attr-defined]
        self.campaign = campaign
        if self.instance.person_id:
            self.fields["person_id"].initial = self.instance.person_id

    def clean_person_id(self) -> Person | None:
        pk = self.cleaned_data.get("person_id")
        if not pk:
            return None
        person = Person.objects.filter(campaign=self.campaign, pk=pk).first()
        if person is None:
            raise ValidationError(_("No person with this number in the campaign."))
        return person


class PublicRequestForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("What do you want?"), choices=PUBLIC_KINDS, widget=forms.RadioSelect)
    email = forms.EmailField(label=gettext_lazy("Your email address"), required=False)
    phone = forms.CharField(
        label=gettext_lazy("or your mobile number"),
        required=False,
        max_length=30,
        help_text=gettext_lazy("We send a code to the address or the number you give."),
    )
    name = forms.CharField(label=gettext_lazy("Your name (optional)"), required=False, max_length=200)
    # Left empty by people; filled by the robots that fill every field.
    website = forms.CharField(required=False, widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}))

    def clean_phone(self) -> str:
        raw = self.cleaned_data.get("phone", "")
        try:
            phone = normalise_phone(raw) if raw else None
        except InvalidValue as error:
            raise ValidationError(str(error)) from None
        return phone.e164 if phone else ""

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not data.get("email") and not data.get("phone") and not self.errors:
            raise ValidationError(_("Give your email address or your mobile number."))
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("The code you received"),
        max_length=6,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}),
    )


# --- The officer's pages -------------------------------------------------------------


@campaign_view("privacy.manage_requests")
def dashboard(request: CampaignRequest) -> HttpResponse:
    requests = RightsRequest.objects.filter(campaign=request.campaign).select_related("assignee", "person")
    status = request.GET.get("status", "pending")
    pending = requests.exclude(status__in=["done", "refused"])
    shown = pending if status == "pending" else requests
    context = {
        "requests": shown.order_by("due_on", "pk")[:500],
        "status": status,
        # Counted in the database, as RightsRequest.is_late reads one row.
        "late": pending.filter(due_on__lt=timezone.localdate()).count(),
        "pending": pending.count(),
        "can_retention": can(request, "privacy.manage_retention"),
        "can_register": can(request, "privacy.manage_register"),
    }
    return render(request, "privacy/dashboard.html", context)


@campaign_view("privacy.manage_requests")
def request_new(request: CampaignRequest) -> HttpResponseBase:
    form = RequestForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = services.request_create(campaign=request.campaign, actor=request.user, **form.cleaned_data)
        due = date_format(created.due_on, "SHORT_DATE_FORMAT")
        messages.success(request, _("Request logged: answer due by %(date)s.") % {"date": due})
        return redirect("privacy:request", request.campaign.slug, created.pk)
    return render(request, "privacy/request_form.html", {"form": form})


@campaign_view("privacy.manage_requests")
def request_detail(request: CampaignRequest, request_id: int) -> HttpResponseBase:
    rights = campaign_object_or_404(RightsRequest, request.campaign, pk=request_id)
    form = RequestUpdateForm(request.POST or None, instance=rights, campaign=request.campaign)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        services.request_update(request=rights, actor=request.user, person=data.pop("person_id"), **data)
        messages.success(request, _("Request updated."))
        return redirect("privacy:request", request.campaign.slug, rights.pk)
    people = (
        [rights.person]
        if rights.person
        else list(services.people_with_email(request.campaign, rights.contact_email))
        if rights.contact_email
        else []
    )
    return render(
        request,
        "privacy/request_detail.html",
        {"rights": rights, "form": form, "people": people, "can_erase": can(request, "privacy.erase_people")},
    )


@campaign_view("privacy.manage_requests", methods=("GET",))
def person_data(request: CampaignRequest, person_id: int, fmt: str) -> HttpResponse:
    """Everything held about a person (right of access, portability), as a document or a file."""
    person = campaign_object_or_404(Person, request.campaign, pk=person_id)
    audit_record(action="person.access_report", campaign=request.campaign, obj=person, changes={"format": fmt})
    return _data_response(person, fmt)


def _data_response(person: Person, fmt: str) -> HttpResponse:
    from suffrage.privacy import access

    if fmt == "json":
        response = HttpResponse(access.access_json(person), content_type="application/json; charset=utf-8")
    elif fmt == "pdf":
        response = HttpResponse(access.access_pdf(person), content_type="application/pdf")
    elif fmt == "html":
        return HttpResponse(access.access_html(person))
    else:
        raise Http404
    response["Content-Disposition"] = f'attachment; filename="data-{person.pk}.{fmt}"'
    return response


@campaign_view("privacy.erase_people")
def person_erase(request: CampaignRequest, person_id: int) -> HttpResponseBase:
    """Review what erasing the person removes (and what must stay), then erase."""
    person = campaign_object_or_404(Person, request.campaign, pk=person_id)
    response: HttpResponseBase = _erase(request, person)
    return response


@reauthentication_required  # after the 404 check: another campaign's id never reaches it
def _erase(request: CampaignRequest, person: Person) -> HttpResponseBase:
    from suffrage.privacy import erasure

    rights = RightsRequest.objects.filter(campaign=request.campaign, pk=request.GET.get("request") or 0).first()
    if request.method == "POST":
        erasure.person_erase(person=person, actor=request.user, request=rights)
        if rights is not None:
            services.request_update(
                request=rights, actor=request.user, status=RightsRequest.Status.DONE, outcome=_("Erased.")
            )
        messages.success(request, _("Erased. Their addresses stay only as hashes on the suppression list."))
        if rights is not None:
            return redirect("privacy:request", request.campaign.slug, rights.pk)
        return redirect("privacy:dashboard", request.campaign.slug)
    found = erasure.erasure_collect(person)
    return render(request, "privacy/erase.html", {"person": person, "found": found, "rights": rights})


@campaign_view("privacy.manage_requests", methods=("POST",))
def person_stop(request: CampaignRequest, person_id: int) -> HttpResponseBase:
    """Objection: stop every channel at once."""
    person = campaign_object_or_404(Person, request.campaign, pk=person_id)
    rights = RightsRequest.objects.filter(campaign=request.campaign, pk=request.POST.get("request") or 0).first()
    services.person_object(person=person, actor=request.user, request=rights)
    messages.success(request, _("%(name)s will not be contacted again, on any channel.") % {"name": person})
    if rights is not None:
        return redirect("privacy:request", request.campaign.slug, rights.pk)
    return redirect("people:detail", request.campaign.slug, person.pk)


# --- The public page ------------------------------------------------------------------------


def public_request(request: HttpRequest, campaign_slug: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=campaign_slug)
    form = PublicRequestForm(request.POST or None)
    sent = False
    if request.method == "POST":
        if too_many(request, "privacy-public", limit=5, window=3600):
            return HttpResponse(_("Too many requests from your address; try again in an hour."), status=429)
        if form.is_valid() and not form.cleaned_data["website"]:
            data = form.cleaned_data
            if data["email"]:
                services.public_request_start(
                    campaign=campaign, kind=data["kind"], email=data["email"], name=data["name"], ip=client_ip(request)
                )
                sent = True
            else:
                try:
                    reference, _code = services.public_request_by_phone(
                        campaign=campaign, kind=data["kind"], phone=data["phone"], name=data["name"]
                    )
                except ValidationError as error:
                    form.add_error("phone", error)
                else:
                    return redirect("privacy_public_code", campaign.slug, reference)
    return render(request, "privacy/public_request.html", {"campaign": campaign, "form": form, "sent": sent})


def public_code(request: HttpRequest, campaign_slug: str, reference: str) -> HttpResponse:
    """The code texted to the phone, typed back: at most five tries, for fifteen minutes."""
    campaign = get_object_or_404(Campaign, slug=campaign_slug)
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if too_many(request, "privacy-code", limit=20, window=600):
            return HttpResponse(_("Too many requests from your address; try again later."), status=429)
        if form.is_valid():
            outcome = services.public_code_check(campaign=campaign, reference=reference, code=form.cleaned_data["code"])
            if outcome is None:
                raise Http404
            if outcome == "wrong":
                form.add_error("code", _("This is not the code we sent."))
            elif outcome == "expired":
                form.add_error("code", _("This code has expired or was mistyped too often: ask again."))
            elif isinstance(outcome, services.Verified):
                context = {"campaign": campaign, "rights": outcome.request, "people": outcome.people}
                return render(request, "privacy/public_verify.html", {**context, "secret": reference})
    return render(request, "privacy/public_code.html", {"campaign": campaign, "form": form})


def public_verify(request: HttpRequest, campaign_slug: str, secret: str) -> HttpResponse:
    campaign = get_object_or_404(Campaign, slug=campaign_slug)
    if too_many(request, "privacy-verify", limit=30):
        return HttpResponse(_("Too many requests from your address; try again in a minute."), status=429)
    verified = services.public_request_verify(campaign=campaign, secret=secret)
    if verified is None:
        return render(request, "privacy/public_verify.html", {"campaign": campaign, "invalid": True}, status=404)
    return render(
        request,
        "privacy/public_verify.html",
        {"campaign": campaign, "rights": verified.request, "people": verified.people, "secret": secret},
    )


def public_data(request: HttpRequest, campaign_slug: str, secret: str, person_id: int, fmt: str) -> HttpResponse:
    """The confirmed holder of the address downloads their data (while the link is valid)."""
    campaign = get_object_or_404(Campaign, slug=campaign_slug)
    verification = services.confirmed_verification(campaign=campaign, secret=secret)
    if verification is None or verification.request.kind != RightsRequest.Kind.ACCESS:
        raise Http404
    person = services.people_of(verification.request).filter(pk=person_id).first()
    if person is None:
        raise Http404
    audit_record(action="person.access_report.public", campaign=campaign, obj=person, changes={"format": fmt})
    return _data_response(person, fmt)
