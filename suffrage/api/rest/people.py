"""REST endpoints: people (`people:read` to read, `people:write` to write).

Reads go through the people selectors and writes through the people services, as the
pages do, so provenance, consent proof and audit rows hold. A person created here has
the provenance "API" with the token's name as its detail. Two things never cross the
API: the support level (special-category data is never for other tools) and custom
fields marked sensitive — they are neither shown nor accepted.

The person representation (`PersonOut`, `person_out`) and the paged people list
(`people_page`) are shared with the tags and segments endpoints."""

from __future__ import annotations

import datetime
import math
from typing import Annotated, Any, Literal, cast

from django.db import models, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import ConfigDict, IPvAnyAddress

from suffrage.api.rest.common import (
    ERRORS,
    NO_NUL,
    ApiError,
    ErrorOut,
    Page,
    campaign_of,
    get_or_404,
    invalid,
    ordered,
    responses,
    scoped,
    token_of,
    utc,
)
from suffrage.api.scopes import Scope
from suffrage.core.audit import audit_record
from suffrage.core.models import Campaign, User
from suffrage.imports.normalise import InvalidValue, Phone, normalise_email, normalise_phone, normalise_postcode
from suffrage.people import services
from suffrage.people.models import (
    Channel,
    Civility,
    ConsentEvent,
    CustomField,
    LegalBasis,
    Person,
    PersonEmail,
    PersonPhone,
    PostalAddress,
    Source,
    Tag,
)
from suffrage.people.selectors import people_for_list

router = Router(tags=["people"])

PEOPLE_SORTS = {
    "created_at": "created_at",
    "updated_at": "updated_at",
    # The normalised "last name first names" the people page sorts by.
    "last_name": "name_key",
    "first_name": "first_names",
}


def text(model: type[models.Model], name: str, default: Any = "") -> Any:
    """A string field of an input schema, as long as the model's column allows."""
    max_length = model._meta.get_field(name).max_length  # type: ignore[union-attr]
    return Field(default, max_length=max_length, pattern=NO_NUL)


# --- What a person looks like ------------------------------------------------------------


def values(choices: type[models.Choices]) -> str:
    """The values of some choices, for a description. Choices are answered as plain
    strings: a value written by an older version or an import must never fail an answer."""
    return ", ".join(str(value) for value in choices.values)


class PersonEmailOut(Schema):
    address: str
    primary: bool
    status: str = Field(description=f"{values(PersonEmail.Status)}: ok, or why the address is no longer used")


class PersonPhoneOut(Schema):
    number: str = Field(description="E.164")
    kind: str = Field(description=values(PersonPhone.Kind))
    sms_capable: bool
    suppressed: bool = Field(description="On the suppression list: never called or texted")


class AddressStationOut(Schema):
    code: str
    name: str


class PersonAddressOut(Schema):
    number: str
    repetition: str
    street: str
    building: str
    stairwell: str
    floor: str
    complement: str
    postcode: str
    town: str
    insee_code: str
    country: str
    polling_station: AddressStationOut | None = Field(description="Where the address votes, once located")
    lon: float | None
    lat: float | None


class PersonTagOut(Schema):
    id: int
    name: str


class PersonProvenanceOut(Schema):
    source: str = Field(description=values(Source))
    detail: str = Field(description="Which form, file, event… (for the API: the token's name)")
    legal_basis: str = Field(description=values(LegalBasis))
    collected_at: datetime.datetime


class PersonConsentOut(Schema):
    """The current state per channel: true (consented), false (withdrawn), null (never said)."""

    email: bool | None
    sms: bool | None
    phone: bool | None
    post: bool | None


class PersonOut(Schema):
    id: int
    civility: str = Field(description=values(Civility))
    first_names: str
    birth_name: str
    usage_name: str
    birth_date: datetime.date | None
    is_member: bool
    is_volunteer: bool
    is_donor: bool
    external_id: str
    emails: list[PersonEmailOut]
    phones: list[PersonPhoneOut]
    addresses: list[PersonAddressOut]
    tags: list[PersonTagOut]
    custom: dict[str, Any] = Field(description="Custom fields by key (sensitive ones are never shown)")
    provenance: PersonProvenanceOut
    consent: PersonConsentOut
    created_at: datetime.datetime
    updated_at: datetime.datetime


class PeoplePage(Schema):
    count: int
    page: int
    per_page: int
    pages: int
    results: list[PersonOut]


def visible_custom_fields(campaign: Campaign) -> dict[str, CustomField]:
    """The custom fields other tools may read and write: every one but the sensitive."""
    return {field.key: field for field in CustomField.objects.filter(campaign=campaign, sensitive=False)}


def _address_out(address: PostalAddress) -> dict[str, Any]:
    station = address.polling_station
    return {
        **{name: getattr(address, name) for name in PersonAddressOut.model_fields if name != "polling_station"},
        "polling_station": {"code": station.code, "name": station.name} if station else None,
    }


def person_out(person: Person, custom_keys: set[str]) -> dict[str, Any]:
    """The API's view of a person (its relations prefetched by `people_loaded`)."""
    return {
        **{name: getattr(person, name) for name in ("id", "civility", "first_names", "birth_name", "usage_name")},
        **{name: getattr(person, name) for name in ("birth_date", "is_member", "is_volunteer", "is_donor")},
        "external_id": person.external_id,
        "emails": [
            {"address": email.address, "primary": email.is_primary, "status": email.status}
            for email in person.emails.all()
        ],
        "phones": [
            {
                "number": phone.number,
                "kind": phone.kind,
                "sms_capable": phone.sms_capable,
                "suppressed": phone.suppressed,
            }
            for phone in person.phones.all()
        ],
        "addresses": [_address_out(address) for address in person.addresses.all()],
        "tags": [{"id": tag.pk, "name": tag.name} for tag in person.tags.all()],
        "custom": {key: value for key, value in (person.custom or {}).items() if key in custom_keys},
        "provenance": {
            "source": person.source,
            "detail": person.source_detail,
            "legal_basis": person.legal_basis,
            "collected_at": person.collected_at,
        },
        "consent": {channel: getattr(person, f"consent_{channel}") for channel in Channel.values},
        "created_at": person.created_at,
        "updated_at": person.updated_at,
    }


def people_loaded(people: QuerySet[Person]) -> QuerySet[Person]:
    """What `person_out` shows, in a fixed number of queries whatever the page size."""
    return people_for_list(people).prefetch_related("addresses__polling_station")


def people_page(
    request: HttpRequest, people: QuerySet[Person], pagination: Page.Input, sort: str | None
) -> dict[str, Any]:
    """One page of people, sorted, in the Page shape."""
    campaign = campaign_of(request)
    page = Page().paginate_queryset(people_loaded(ordered(people, sort, PEOPLE_SORTS)), pagination, request)
    custom_keys = set(visible_custom_fields(campaign))
    page["results"] = [person_out(person, custom_keys) for person in page["results"]]
    return dict(page)


def person_of(request: HttpRequest, person_id: int) -> Person:
    """One of the token's campaign's people, or a 404."""
    return get_or_404(Person.objects.filter(campaign=campaign_of(request)), pk=person_id)


def _person_answer(request: HttpRequest, person_id: int) -> dict[str, Any]:
    campaign = campaign_of(request)
    person = get_or_404(people_loaded(Person.objects.filter(campaign=campaign)), pk=person_id)
    return person_out(person, set(visible_custom_fields(campaign)))


def _actor(request: HttpRequest) -> User | None:
    """Writes are done in the name of the owner who created the token (their audit rows say so)."""
    return token_of(request).created_by


# --- Parameters and bodies ---------------------------------------------------------------


def sort_by(allowed: dict[str, str]) -> Any:
    """The `sort` parameter: one of the keys, "-" in front to sort descending."""
    keys = sorted(allowed)
    return Field(
        None,
        pattern=f"^-?({'|'.join(keys)})$",
        description=f"{', '.join(keys)}; a leading - sorts descending",
    )


class PeopleSort(Schema):
    sort: str | None = sort_by(PEOPLE_SORTS)


class PeopleFilters(PeopleSort):
    email: str | None = Field(None, max_length=254, pattern=NO_NUL, description="One of their email addresses")
    phone: str | None = Field(None, max_length=40, pattern=NO_NUL, description="One of their numbers, any format")
    tag: str | None = Field(None, max_length=80, pattern=NO_NUL, description="A tag's id, or else its exact name")
    segment: int | None = Field(None, description="A segment's or static list's id: its people")
    source: Source | None = None
    created_since: datetime.datetime | None = None
    updated_since: datetime.datetime | None = None


def _tag_filter(campaign: Campaign, value: str) -> Tag:
    tags = Tag.objects.filter(campaign=campaign)
    tag = (tags.filter(pk=int(value)).first() if value.isdigit() else None) or tags.filter(name=value).first()
    if tag is None:
        raise invalid("query.tag", _("No tag with this id or name."))
    return tag


def _filtered_people(request: HttpRequest, filters: PeopleFilters) -> QuerySet[Person]:
    """The campaign's people that match the list's filters."""
    campaign = campaign_of(request)
    people = Person.objects.filter(campaign=campaign)
    if filters.email:
        try:
            address = normalise_email(filters.email)
        except InvalidValue as error:
            raise invalid("query.email", str(error)) from None
        people = people.filter(Exists(PersonEmail.objects.filter(person=OuterRef("pk"), address=address)))
    if filters.phone:
        number = _phone(filters.phone, campaign, "query.phone")
        people = people.filter(Exists(PersonPhone.objects.filter(person=OuterRef("pk"), number=number.e164)))
    if filters.tag:
        people = people.filter(tags=_tag_filter(campaign, filters.tag))
    if filters.segment is not None:
        from suffrage.api.rest.segments import segment_people_for_api, segment_query

        segment = segment_query(campaign, filters.segment)
        people = people.filter(pk__in=segment_people_for_api(campaign, segment).values("pk"))
    if filters.source:
        people = people.filter(source=filters.source)
    if filters.created_since:
        people = people.filter(created_at__gte=utc(filters.created_since, "query.created_since"))
    if filters.updated_since:
        people = people.filter(updated_at__gte=utc(filters.updated_since, "query.updated_since"))
    return people


def _phone(raw: str, campaign: Campaign, field: str) -> Phone:
    try:
        phone = normalise_phone(raw, default_region=campaign.country)
    except InvalidValue as error:
        raise invalid(field, str(error)) from None
    if phone is None:
        raise invalid(field, _("The number is empty."))
    return phone


class Strict(Schema):
    # An unknown key is an error naming it (a typo, or `support_level`, which the API never takes).
    model_config = ConfigDict(extra="forbid")


class PersonAddressIn(Strict):
    number: str = text(PostalAddress, "number")
    repetition: str = text(PostalAddress, "repetition")
    street: str = text(PostalAddress, "street")
    building: str = text(PostalAddress, "building")
    stairwell: str = text(PostalAddress, "stairwell")
    floor: str = text(PostalAddress, "floor")
    complement: str = text(PostalAddress, "complement")
    postcode: str = text(PostalAddress, "postcode")
    town: str = text(PostalAddress, "town")
    insee_code: str = text(PostalAddress, "insee_code")


class PersonConsentIn(Strict):
    channel: Channel
    granted: bool
    wording: str = Field(
        "", max_length=5000, pattern=NO_NUL, description="The words the person agreed to (required for a consent)"
    )
    form: str = Field(
        "", max_length=200, pattern=NO_NUL, description="Where it was given (a form's name); default: the token's name"
    )
    ip: IPvAnyAddress | None = Field(None, description="The address the person consented from, if known")


class PersonFields(Strict):
    """What the person edit page changes."""

    civility: Civility = Civility.NONE
    first_names: str = text(Person, "first_names")
    birth_name: str = text(Person, "birth_name")
    usage_name: str = text(Person, "usage_name")
    birth_date: datetime.date | None = None
    is_member: bool = False
    is_volunteer: bool = False
    is_donor: bool = False
    external_id: str = text(Person, "external_id")
    custom: dict[str, Any] = Field(
        default_factory=dict, description="Custom fields by key; in a change, null removes a value"
    )


TagName = Annotated[str, Field(max_length=80, pattern=NO_NUL)]


class PersonCreateIn(PersonFields):
    legal_basis: LegalBasis
    collected_at: datetime.datetime | None = Field(None, description="When the other tool collected it; default: now")
    email: str = Field("", max_length=254, pattern=NO_NUL)
    phone: str = Field("", max_length=40, pattern=NO_NUL)
    address: PersonAddressIn | None = None
    tags: list[TagName] = Field(default_factory=list, max_length=50, description="Tag names, created when new")
    consents: list[PersonConsentIn] = Field(default_factory=list, max_length=4)


class PersonUpdateIn(PersonFields):
    """Only the fields sent change."""


class PersonChannelIn(Strict):
    kind: Literal["email", "phone"]
    value: str = Field(max_length=254, pattern=NO_NUL)


class PersonConsentEventOut(Schema):
    id: int
    channel: Channel
    granted: bool
    at: datetime.datetime
    source: str
    form: str
    wording: str


# --- Checking bodies ---------------------------------------------------------------------------


class Problems:
    """Errors found in a body, gathered to be answered together (each naming its field)."""

    def __init__(self) -> None:
        self.errors: list[dict[str, str]] = []

    def add(self, field: str, message: str) -> None:
        self.errors.append({"field": field, "message": message})

    def raise_any(self) -> None:
        if self.errors:
            raise ApiError(422, _("The request is not valid."), self.errors)


def _storable(raw: Any) -> bool:
    """A value a custom field can take: a scalar or a list of texts (no NUL character,
    which PostgreSQL cannot store)."""
    if isinstance(raw, list):
        return all(isinstance(item, str) and "\x00" not in item for item in raw)
    if isinstance(raw, str):
        return "\x00" not in raw
    return raw is None or isinstance(raw, bool | int | float)


def _custom_clean(campaign: Campaign, given: dict[str, Any], problems: Problems) -> dict[str, Any]:
    """{key: stored value or None (to remove)} for the custom fields sent."""
    fields = visible_custom_fields(campaign)
    cleaned: dict[str, Any] = {}
    for key, raw in given.items():
        where = f"body.custom.{key}"[:120]
        field = fields.get(key)
        if field is None:
            problems.add(where, _("No custom field has this key."))
            continue
        if not _storable(raw):
            problems.add(where, _("Give a text, a number, true or false, or a list of texts."))
            continue
        try:
            value = services.custom_value_clean(field, raw)
        except InvalidValue as error:
            problems.add(where, str(error))
            continue
        if isinstance(value, float) and not math.isfinite(value):
            problems.add(where, _("This value cannot be stored."))
            continue
        cleaned[key] = value
    return cleaned


def _consent_check(consent: PersonConsentIn, where: str, problems: Problems) -> None:
    if consent.granted and not consent.wording.strip():
        problems.add(f"{where}.wording", _("A consent needs the words the person agreed to."))


def _held_by_another(
    campaign: Campaign, *, email: str = "", phone: Phone | None = None, person: Person | None = None
) -> None:
    """A 409 when the address or number is already someone's: the other tool should
    update that person (found with ?email= or ?phone=) rather than make a duplicate."""
    emails = PersonEmail.objects.filter(campaign=campaign, address=email) if email else PersonEmail.objects.none()
    phones = PersonPhone.objects.filter(campaign=campaign, number=phone.e164) if phone else PersonPhone.objects.none()
    if person is not None:
        emails, phones = emails.exclude(person=person), phones.exclude(person=person)
    for found, field, message in (
        (emails.order_by("person_id").first(), "email", _("Person #%(id)s already has this email address.")),
        (phones.order_by("person_id").first(), "phone", _("Person #%(id)s already has this phone number.")),
    ):
        if found is not None:
            raise ApiError(
                409,
                _("This person already exists."),
                [{"field": f"body.{field}", "message": message % {"id": found.person_id}}],
            )


def _moment(value: datetime.datetime, field: str, problems: Problems) -> datetime.datetime | None:
    try:
        moment = utc(value, field)
    except ApiError as error:
        problems.errors += error.errors
        return None
    if moment > timezone.now():
        problems.add(field, _("This date is in the future."))
        return None
    return moment


# --- Endpoints ---------------------------------------------------------------------------------


@router.get("", auth=scoped(Scope.PEOPLE_READ), response=responses(PeoplePage), url_name="api-people")
def people_list(request: HttpRequest, filters: Query[PeopleFilters], pagination: Query[Page.Input]) -> dict[str, Any]:
    """The campaign's people, filtered and sorted, a page at a time."""
    return people_page(request, _filtered_people(request, filters), pagination, filters.sort)


@router.get("/{person_id}", auth=scoped(Scope.PEOPLE_READ), response=responses(PersonOut), url_name="api-person")
def person_detail(request: HttpRequest, person_id: int) -> dict[str, Any]:
    """One person: names, channels, addresses with their polling station, tags, custom
    fields, provenance and consent per channel."""
    campaign = campaign_of(request)
    person = get_or_404(people_loaded(Person.objects.filter(campaign=campaign)), pk=person_id)
    # As on the person page: who looked at whom goes into the person's access report (GDPR art. 15).
    audit_record(
        action="person.view",
        campaign=campaign,
        obj=person,
        changes={"api_token": token_of(request).name},
        actor=_actor(request),
    )
    return person_out(person, set(visible_custom_fields(campaign)))


@router.post(
    "",
    auth=scoped(Scope.PEOPLE_WRITE),
    response={**responses(PersonOut, 201), 409: ErrorOut},
    url_name="api-people-create",
)
def person_create(request: HttpRequest, payload: PersonCreateIn) -> Status[dict[str, Any]]:
    """Add a person, with the provenance "API" (the token's name as detail), their first
    email, phone and address, tags, and consents with their proof. An email or phone
    already held by someone is a 409 naming that person."""
    campaign = campaign_of(request)
    token = token_of(request)
    problems = Problems()
    if not (payload.first_names.strip() or payload.birth_name.strip() or payload.usage_name.strip()):
        problems.add("body.first_names", _("Give at least a first name or a last name."))
    email, phone, postcode = "", None, ""
    try:
        email = normalise_email(payload.email)
    except InvalidValue as error:
        problems.add("body.email", str(error))
    try:
        phone = normalise_phone(payload.phone, default_region=campaign.country)
    except InvalidValue as error:
        problems.add("body.phone", str(error))
    if payload.address and payload.address.postcode:
        try:
            postcode = normalise_postcode(payload.address.postcode, country=campaign.country)
        except InvalidValue as error:
            problems.add("body.address.postcode", str(error))
    custom = _custom_clean(campaign, payload.custom, problems)
    for index, consent in enumerate(payload.consents):
        _consent_check(consent, f"body.consents.{index}", problems)
    collected_at = _moment(payload.collected_at, "body.collected_at", problems) if payload.collected_at else None
    for index, name in enumerate(payload.tags):
        if not name.strip():
            problems.add(f"body.tags.{index}", _("A tag needs a name."))
    problems.raise_any()
    _held_by_another(campaign, email=email, phone=phone)

    fields = payload.model_dump(include=set(PersonFields.model_fields) - {"custom"})
    if collected_at:
        fields["collected_at"] = collected_at
    address = payload.address.model_dump() | {"postcode": postcode} if payload.address else None
    actor = _actor(request)
    with transaction.atomic():  # a refused tag or consent leaves no half-made person
        person = services.person_create(
            campaign=campaign,
            actor=actor,
            source=Source.API,
            source_detail=token.name,
            legal_basis=payload.legal_basis,
            email=email,
            phone=phone,
            address=address,
            custom={key: value for key, value in custom.items() if value is not None},
            **fields,
        )
        for name in dict.fromkeys(" ".join(name.split()) for name in payload.tags):
            # The service only hands its actor to the audit row, which takes none.
            services.people_tag(
                campaign=campaign, people_ids=[person.pk], tag_name=name, add=True, actor=cast(User, actor)
            )
        for consent in payload.consents:
            _consent_record(request, person, consent)
    return Status(201, _person_answer(request, person.pk))


def _consent_record(request: HttpRequest, person: Person, consent: PersonConsentIn) -> ConsentEvent:
    return services.consent_record(
        person=person,
        channel=consent.channel,
        granted=consent.granted,
        source=Source.API,
        actor=_actor(request),
        form=consent.form.strip() or token_of(request).name,
        wording=consent.wording,
        ip=str(consent.ip) if consent.ip else None,
    )


@router.patch(
    "/{person_id}", auth=scoped(Scope.PEOPLE_WRITE), response=responses(PersonOut), url_name="api-person-update"
)
def person_update(request: HttpRequest, person_id: int, payload: PersonUpdateIn) -> dict[str, Any]:
    """Change some of a person's fields (only those sent), through the same service as the
    person edit page: the change is audited with its old and new values."""
    person = person_of(request, person_id)
    problems = Problems()
    given = payload.model_dump(exclude_unset=True)
    fields = {name: value for name, value in given.items() if name != "custom"}
    if "custom" in given:
        changes = _custom_clean(person.campaign, payload.custom, problems)
        problems.raise_any()
        # Values of fields the API does not see (sensitive ones) are kept as they are.
        custom = {**person.custom, **changes}
        fields["custom"] = {key: value for key, value in custom.items() if value is not None}
    if fields:
        provenance = (Source.API, token_of(request).name)
        services.person_update(person=person, actor=_actor(request), provenance=provenance, **fields)
    return _person_answer(request, person.pk)


@router.put(
    "/{person_id}/tags/{tag_id}",
    auth=scoped(Scope.PEOPLE_WRITE),
    response={204: None, **ERRORS},
    url_name="api-person-tag",
)
def person_tag(request: HttpRequest, person_id: int, tag_id: int) -> Status[None]:
    """Tag a person (nothing changes if they already have the tag)."""
    _tag_change(request, person_id, tag_id, add=True)
    return Status(204, None)


@router.delete(
    "/{person_id}/tags/{tag_id}",
    auth=scoped(Scope.PEOPLE_WRITE),
    response={204: None, **ERRORS},
    url_name="api-person-untag",
)
def person_untag(request: HttpRequest, person_id: int, tag_id: int) -> Status[None]:
    """Remove a tag from a person."""
    _tag_change(request, person_id, tag_id, add=False)
    return Status(204, None)


def _tag_change(request: HttpRequest, person_id: int, tag_id: int, *, add: bool) -> None:
    campaign = campaign_of(request)
    person = person_of(request, person_id)
    tag = get_or_404(Tag.objects.filter(campaign=campaign), pk=tag_id)
    services.people_tag(
        campaign=campaign, people_ids=[person.pk], tag_name=tag.name, add=add, actor=cast(User, _actor(request))
    )


@router.post(
    "/{person_id}/channels",
    auth=scoped(Scope.PEOPLE_WRITE),
    response={**responses(PersonOut), 409: ErrorOut},
    url_name="api-person-channel",
)
def person_add_channel(request: HttpRequest, person_id: int, payload: PersonChannelIn) -> dict[str, Any]:
    """Add an email address or a phone number to a person (nothing changes if they
    already have it; a 409 if someone else has it)."""
    person = person_of(request, person_id)
    campaign = person.campaign
    value: Any
    if payload.kind == "email":
        try:
            value = normalise_email(payload.value)
        except InvalidValue as error:
            raise invalid("body.value", str(error)) from None
        if not value:
            raise invalid("body.value", _("Nothing to add."))
        _held_by_another(campaign, email=value, person=person)
    else:
        value = _phone(payload.value, campaign, "body.value")
        _held_by_another(campaign, phone=value, person=person)
    services.person_add_channel(person=person, kind=payload.kind, value=value, actor=_actor(request))
    return _person_answer(request, person.pk)


@router.post(
    "/{person_id}/consents",
    auth=scoped(Scope.PEOPLE_WRITE),
    response=responses(PersonConsentEventOut, 201),
    url_name="api-person-consent",
)
def person_consent(request: HttpRequest, person_id: int, payload: PersonConsentIn) -> Status[ConsentEvent]:
    """Record a consent (with the words agreed to) or a withdrawal on a channel, in the
    person's consent ledger; the proof's source is "API"."""
    person = person_of(request, person_id)
    problems = Problems()
    _consent_check(payload, "body", problems)
    problems.raise_any()
    return Status(201, _consent_record(request, person, payload))
