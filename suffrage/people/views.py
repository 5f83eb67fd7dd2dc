"""People pages: list with search and bulk actions, person page with timeline,
forms, duplicates and merge, custom fields, export."""

from __future__ import annotations

from typing import Any

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from suffrage.core.access import CampaignRequest, campaign_object_or_404, campaign_view, can
from suffrage.core.audit import audit_record
from suffrage.core.pagination import CappedPaginator
from suffrage.imports.normalise import InvalidValue, normalise_email, normalise_phone
from suffrage.people import services
from suffrage.people.exports import people_export_start
from suffrage.people.forms import (
    BulkForm,
    ChannelForm,
    ConsentForm,
    CustomFieldForm,
    ExportForm,
    NewPersonForm,
    NoteForm,
    PeopleFilterForm,
    PersonForm,
    SupportForm,
)
from suffrage.people.models import CustomField, Person, Source
from suffrage.people.selectors import (
    duplicate_pairs,
    people_filtered,
    people_for_list,
    person_timeline,
    reachability_counts,
)
from suffrage.roll.selectors import person_roll_link

PAGE_SIZE = 50


def _filters(request: CampaignRequest) -> tuple[PeopleFilterForm, dict[str, Any]]:
    form = PeopleFilterForm(request.GET, campaign=request.campaign)
    # A segment's conditions on support levels run only for roles that may see them.
    return form, {**form.params(), "can_sensitive": can(request, "people.view_sensitive")}


@campaign_view("people.view_people")
def person_list(request: CampaignRequest) -> HttpResponse:
    form, params = _filters(request)
    people = people_filtered(request.campaign, params)
    page = CappedPaginator(people_for_list(people), PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "form": form,
        "page": page,
        "query": query.urlencode(),
        "bulk_form": BulkForm(),
        "can_bulk": can(request, "people.bulk_edit"),
        "can_edit": can(request, "people.edit_people"),
        "can_export": can(request, "people.export_people"),
        "can_manage_fields": can(request, "people.manage_fields"),
    }
    template = "people/htmx/results.html" if request.htmx else "people/person_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@campaign_view("people.view_people")
def person_counts(request: CampaignRequest) -> HttpResponse:
    """How many people are reachable on each channel; loaded after the list, as it scans the whole base."""
    return render(request, "people/htmx/counts.html", {"counts": reachability_counts(request.campaign)})


@campaign_view("people.bulk_edit", methods=["POST"])
def person_bulk(request: CampaignRequest) -> HttpResponse:
    form = BulkForm(request.POST)
    back = redirect(f"{reverse('people:list', args=[request.campaign.slug])}?{request.POST.get('query', '')}")
    if not form.is_valid():
        messages.error(request, " ".join(str(e) for errors in form.errors.values() for e in errors))
        return back
    data = form.cleaned_data
    if data["all_matching"]:
        _form, params = _filters(request)
        people = people_filtered(request.campaign, params)
    else:
        ids = [int(pk) for pk in request.POST.getlist("person") if pk.isdigit()]
        people = Person.objects.filter(campaign=request.campaign, pk__in=ids)
    if data["action"] == "do_not_contact":
        count = services.people_do_not_contact(
            campaign=request.campaign, people=people, channel=data["channel"], actor=request.user
        )
    else:
        count = services.people_tag(
            campaign=request.campaign,
            people_ids=list(people.values_list("pk", flat=True)),
            tag_name=data["tag_name"],
            add=data["action"] == "tag",
            actor=request.user,
        )
    messages.success(request, _("Done for %(count)s people.") % {"count": count})
    return back


@campaign_view("people.edit_people")
def person_new(request: CampaignRequest) -> HttpResponse:
    form = NewPersonForm(
        request.POST or None, campaign=request.campaign, can_sensitive=can(request, "people.view_sensitive")
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {name: data[name] for name in PersonForm.Meta.fields}
        person = services.person_create(
            campaign=request.campaign,
            actor=request.user,
            source=Source.MANUAL,
            legal_basis=data["legal_basis"],
            email=data["email"],
            phone=data["phone"],
            address={"street": data["street"], "postcode": data["postcode"], "town": data["town"]},
            custom=data["custom"],
            **fields,
        )
        messages.success(request, _("%(name)s added.") % {"name": person})
        return redirect("people:detail", request.campaign.slug, person.pk)
    return render(request, "people/person_form.html", {"form": form})


def _person(request: CampaignRequest, person_id: int) -> Person:
    return campaign_object_or_404(Person, request.campaign, pk=person_id)


@campaign_view("people.view_people")
def person_detail(request: CampaignRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    # Who looked at whom: the person's access report lists it (GDPR art. 15).
    audit_record(action="person.view", campaign=request.campaign, obj=person, actor=request.user)
    context = {
        "person": person,
        "timeline": person_timeline(person),
        "custom_fields": [
            (f, person.custom.get(f.key))
            for f in CustomField.objects.filter(campaign=request.campaign)
            if not f.sensitive or can(request, "people.view_sensitive")
        ],
        "can_edit": can(request, "people.edit_people"),
        "can_sensitive": can(request, "people.view_sensitive"),
        "channel_form": ChannelForm(),
        "consent_form": ConsentForm(),
        "note_form": NoteForm(),
        "support_form": SupportForm(initial={"level": person.support_level}),
        "roll_link": person_roll_link(person) if can(request, "roll.view_roll") else None,
    }
    return render(request, "people/person_detail.html", context)


@campaign_view("people.edit_people")
def person_edit(request: CampaignRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    form = PersonForm(
        request.POST or None,
        instance=person,
        campaign=request.campaign,
        can_sensitive=can(request, "people.view_sensitive"),
    )
    if request.method == "POST" and form.is_valid():
        fields = {name: form.cleaned_data[name] for name in PersonForm.Meta.fields}
        # The ModelForm already set the values on the instance: compare against the database.
        services.person_update(
            person=Person.objects.get(pk=person.pk), actor=request.user, custom=form.cleaned_data["custom"], **fields
        )
        messages.success(request, _("Changes saved."))
        return redirect("people:detail", request.campaign.slug, person.pk)
    return render(request, "people/person_form.html", {"form": form, "person": person})


@campaign_view("people.edit_people", methods=["POST"])
def person_add_channel(request: CampaignRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    form = ChannelForm(request.POST)
    if form.is_valid():
        kind, raw = form.cleaned_data["kind"], form.cleaned_data["value"]
        try:
            value: Any = (
                normalise_email(raw)
                if kind == "email"
                else normalise_phone(raw, default_region=request.campaign.country)
            )
            if not value:
                raise InvalidValue(_("Nothing to add."))
            services.person_add_channel(person=person, kind=kind, value=value, actor=request.user)
        except InvalidValue as error:
            messages.error(request, str(error))
    return redirect("people:detail", request.campaign.slug, person.pk)


@campaign_view("people.edit_people", methods=["POST"])
def person_consent(request: CampaignRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    form = ConsentForm(request.POST)
    if form.is_valid():
        services.consent_record(person=person, source=Source.MANUAL, actor=request.user, **form.cleaned_data)
        messages.success(request, _("Consent ledger updated."))
    else:
        messages.error(request, _("Say on which channel, what was decided and how."))
    return redirect("people:detail", request.campaign.slug, person.pk)


@campaign_view("people.edit_people", methods=["POST"])
def person_do_not_contact(request: CampaignRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    channel = request.POST.get("channel", "")
    try:
        services.people_do_not_contact(
            campaign=request.campaign, people=Person.objects.filter(pk=person.pk), channel=channel, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    return redirect("people:detail", request.campaign.slug, person.pk)


@campaign_view("people.edit_people", methods=["POST"])
def person_note(request: CampaignRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    form = NoteForm(request.POST)
    if form.is_valid():
        services.note_add(person=person, text=form.cleaned_data["text"], actor=request.user)
    return redirect("people:detail", request.campaign.slug, person.pk)


@campaign_view("people.view_sensitive", methods=["POST"])
def person_support(request: CampaignRequest, person_id: int) -> HttpResponse:
    person = _person(request, person_id)
    form = SupportForm(request.POST)
    if form.is_valid():
        services.person_set_support_level(person=person, level=form.cleaned_data["level"], actor=request.user)
    return redirect("people:detail", request.campaign.slug, person.pk)


@campaign_view("people.merge_people")
def duplicate_list(request: CampaignRequest) -> HttpResponse:
    pairs = duplicate_pairs(request.campaign)
    return render(request, "people/duplicates.html", {"pairs": pairs})


MERGE_FIELD_LABELS = [
    ("civility", _("Civility")),
    ("first_names", _("First names")),
    ("birth_name", _("Birth name")),
    ("usage_name", _("Usage name")),
    ("birth_date", _("Birth date")),
    ("external_id", _("External identifier")),
]


@campaign_view("people.merge_people")
def duplicate_compare(request: CampaignRequest, person_id: int, other_id: int) -> HttpResponse:
    first, second = _person(request, person_id), _person(request, other_id)
    if request.method == "POST":
        if request.POST.get("decision") == "distinct":
            services.duplicate_dismiss(first=first, second=second, actor=request.user)
            messages.success(request, _("Marked as two different people."))
            return redirect("people:duplicates", request.campaign.slug)
        take = [name for name, _label in MERGE_FIELD_LABELS if request.POST.get(name) == "second"]
        keep = services.person_merge(keep=first, other=second, take_from_other=take, actor=request.user)
        messages.success(request, _("Merged into %(name)s.") % {"name": keep})
        return redirect("people:detail", request.campaign.slug, keep.pk)
    rows = [(name, label, getattr(first, name), getattr(second, name)) for name, label in MERGE_FIELD_LABELS]
    return render(request, "people/duplicate_compare.html", {"first": first, "second": second, "rows": rows})


@campaign_view("people.merge_people", methods=["POST"])
def duplicate_bulk_merge(request: CampaignRequest) -> HttpResponse:
    """Merge the selected pairs, each into its older record (values: "first_id:second_id")."""
    merged = 0
    for value in request.POST.getlist("pair"):
        first_id, _sep, second_id = value.partition(":")
        people = Person.objects.filter(campaign=request.campaign, pk__in=[first_id, second_id]).order_by("pk")
        if len(people) == 2:
            services.person_merge(keep=people[0], other=people[1], actor=request.user)
            merged += 1
    messages.success(request, _("%(count)s pairs merged.") % {"count": merged})
    return redirect("people:duplicates", request.campaign.slug)


@campaign_view("people.manage_fields")
def custom_field_list(request: CampaignRequest) -> HttpResponse:
    fields = CustomField.objects.filter(campaign=request.campaign)
    return render(request, "people/custom_fields.html", {"fields": fields})


@campaign_view("people.manage_fields")
def custom_field_edit(request: CampaignRequest, field_id: int | None = None) -> HttpResponse:
    field = campaign_object_or_404(CustomField, request.campaign, pk=field_id) if field_id else None
    form = CustomFieldForm(request.POST or None, instance=field)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in ("label", "key", "kind", "choices")}
        try:
            services.custom_field_save(campaign=request.campaign, actor=request.user, field=field, **values)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, _("Field saved."))
            return redirect("people:custom_fields", request.campaign.slug)
    return render(request, "people/custom_field_form.html", {"form": form, "field": field})


@campaign_view("people.export_people")
@reauthentication_required
def person_export(request: CampaignRequest) -> HttpResponse:
    """Choose columns and format for the people matching the list's filters; runs as a job."""
    _filter_form, params = _filters(request)
    form = ExportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        job = people_export_start(
            campaign=request.campaign,
            actor=request.user,
            params=params,
            columns=form.cleaned_data["columns"],
            file_format=form.cleaned_data["format"],
        )
        return redirect("core:job", request.campaign.slug, job.pk)
    count = people_filtered(request.campaign, params).count()
    return render(request, "people/export.html", {"form": form, "count": count, "query": request.GET.urlencode()})
