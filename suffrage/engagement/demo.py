"""Demo engagement: the public site, a petition with signatures, a volunteer form,
an upcoming public meeting with RSVPs and a past one with its attendance, calls to
action, and two weeks of page views for the results. Everything goes through the
services, as a citizen's visit would. Idempotent."""

from __future__ import annotations

import datetime
import random

from django.db import transaction
from django.utils import timezone

from suffrage.core.models import Campaign, Membership
from suffrage.core.roles import Role
from suffrage.engagement import services
from suffrage.engagement.models import RSVP, Action, CallToAction, Event, PageView, Response, Submission
from suffrage.people.models import Person, PersonEmail
from suffrage.people.services import tag_get_or_create
from suffrage.segments.compiler import context_for
from suffrage.segments.services import segment_save

EMAIL_CONSENT = (
    "J'accepte de recevoir par email les informations de la campagne Brest en commun. "
    "Je peux me désinscrire à tout moment par le lien présent dans chaque message."
)
SMS_CONSENT = "J'accepte de recevoir des SMS de la campagne (STOP au numéro indiqué pour ne plus en recevoir)."


def load(campaign: Campaign) -> None:
    owner = Membership.objects.filter(campaign=campaign, role=Role.OWNER).select_related("user").first()
    if owner is None or Action.objects.filter(campaign=campaign).exists():
        return
    actor = owner.user
    rng = random.Random(2027)
    with transaction.atomic():
        site = services.site_for(campaign)
        site.title = campaign.name
        site.intro = "Signez, venez, engagez-vous : la campagne se fait avec vous, quartier par quartier."
        site.colour = "#b91c1c"
        site.allowed_origins = "http://127.0.0.1:8000\nhttp://localhost:8000"
        services.site_save(site=site, actor=actor)
        petition = _petition(campaign, actor)
        volunteer = _volunteer_form(campaign, actor)
        upcoming, past = _events(campaign, actor)
        _calls(campaign, actor, upcoming)
    people = list(
        Person.objects.filter(campaign=campaign, emails__status=PersonEmail.Status.OK).distinct().order_by("pk")[:90]
    )
    _sign(petition, people[:64], rng)
    _sign(volunteer, people[64:72], rng)
    _come(upcoming, people[:26])
    _come(past, people[26:60], check_in=actor)
    _views(campaign, [petition, volunteer], [upcoming, past], rng)
    _segment(campaign, actor, petition, upcoming, past)


def _segment(campaign: Campaign, actor, petition: Action, upcoming: Event, past: Event) -> None:  # type: ignore[no-untyped-def]
    """A saved audience on engagement: who signed or came, for the next invitation."""
    segment_save(
        campaign=campaign,
        name="Signataires de la pétition tram ou venus au café citoyen, pas encore inscrits à la réunion",
        document={
            "version": 1,
            "filter": {
                "all": [
                    {
                        "any": [
                            {"field": "form", "op": "submitted", "value": petition.pk},
                            {"field": "event", "op": "attended", "value": past.pk},
                        ]
                    },
                    {"field": "reachable", "op": "is", "value": "email"},
                    {"not": {"field": "event", "op": "rsvp", "value": upcoming.pk}},
                ]
            },
        },
        actor=actor,
        context=context_for(campaign),
    )


def _petition(campaign: Campaign, actor) -> Action:  # type: ignore[no-untyped-def]
    petition = Action(
        campaign=campaign,
        kind=Action.Kind.PETITION,
        status="open",
        title="Pour un tram jusqu'à Plougastel",
        slug="tram-plougastel",
        description=(
            "La deuxième ligne de tram s'arrête aux portes de la ville. Nous demandons son prolongement "
            "jusqu'à Plougastel-Daoulas avant 2030, avec un parking relais au Passage.\n\n"
            "**Chaque signature compte** : nous remettrons la pétition au conseil de la métropole."
        ),
        target="Brest métropole",
        goal=500,
        public_signers=True,
        fields=[
            {"key": "first_names", "required": True},
            {"key": "last_name", "required": True},
            {"key": "email", "required": True},
            {"key": "postcode", "required": False},
        ],
        tag=tag_get_or_create(campaign, "pétition tram"),
    )
    return services.action_save(action=petition, actor=actor, consents={"email": EMAIL_CONSENT})


def _volunteer_form(campaign: Campaign, actor) -> Action:  # type: ignore[no-untyped-def]
    form = Action(
        campaign=campaign,
        kind=Action.Kind.VOLUNTEER,
        status="open",
        title="Devenir bénévole",
        slug="benevole",
        description="Porte-à-porte, tractage, appels, logistique : dites-nous ce que vous aimeriez faire.",
        fields=[
            {"key": "first_names", "required": True},
            {"key": "last_name", "required": True},
            {"key": "email", "required": True},
            {"key": "phone", "required": False},
            {"key": "town", "required": False},
            {"key": "message", "required": False, "label": "Vos disponibilités, vos envies"},
        ],
        double_opt_in=True,
        thanks_message="Merci ! Un membre de l'équipe vous appelle cette semaine.",
        autoreply_subject="Bienvenue dans l'équipe",
        autoreply_text="Merci de votre engagement. Nous vous recontactons très vite pour une première action.",
        tag=tag_get_or_create(campaign, "bénévole web"),
    )
    return services.action_save(action=form, actor=actor, consents={"email": EMAIL_CONSENT, "sms": SMS_CONSENT})


def _events(campaign: Campaign, actor) -> tuple[Event, Event]:  # type: ignore[no-untyped-def]
    now = timezone.now()
    in_ten_days = (now + datetime.timedelta(days=10)).replace(hour=17, minute=30, second=0, microsecond=0)
    upcoming = services.event_save(
        event=Event(
            campaign=campaign,
            status=Event.Status.OPEN,
            title="Réunion publique : se déplacer à Brest",
            slug="reunion-transports",
            description="Tram, bus, vélo : venez débattre de nos propositions avec la tête de liste.",
            starts_at=in_ten_days,
            ends_at=in_ten_days + datetime.timedelta(hours=2),
            venue="Patronage laïque de Recouvrance",
            address="2 rue de la Porte, 29200 Brest",
            latitude=48.3836,
            longitude=-4.5020,
            capacity=80,
            reminder_hours=[24, 2],
            followup_hours=12,
            followup_text="Retrouvez nos propositions transports sur le site et parlez-en autour de vous.",
        ),
        actor=actor,
        consents={"email": EMAIL_CONSENT},
    )
    upcoming.organisers.add(actor)
    last_week = (now - datetime.timedelta(days=7)).replace(hour=17, minute=0, second=0, microsecond=0)
    past = services.event_save(
        event=Event(
            campaign=campaign,
            status=Event.Status.CLOSED,
            title="Café citoyen à Bellevue",
            slug="cafe-bellevue",
            description="Une heure pour parler du quartier autour d'un café.",
            starts_at=last_week,
            ends_at=last_week + datetime.timedelta(hours=1, minutes=30),
            venue="Maison de quartier de Bellevue",
            address="1 rue Pierre Trépos, 29200 Brest",
            capacity=40,
        ),
        actor=actor,
    )
    return upcoming, past


def _calls(campaign: Campaign, actor, event: Event) -> None:  # type: ignore[no-untyped-def]
    now = timezone.now()
    saturday = (now + datetime.timedelta(days=(5 - now.weekday()) % 7 or 7)).replace(hour=8, minute=30, second=0)
    calls = [
        CallToAction(
            campaign=campaign,
            kind=CallToAction.Kind.DONATE,
            status="open",
            title="Soutenir la campagne",
            slug="don",
            description="Les dons passent par notre mandataire financier (plafond légal : 4 600 € par personne).",
            url="https://dons.brest-en-commun.example/",
        ),
        CallToAction(
            campaign=campaign,
            kind=CallToAction.Kind.SHARE,
            status="open",
            title="Partager la pétition tram",
            slug="partager-tram",
            url="http://127.0.0.1:8000/e/demo-brest/f/tram-plougastel/",
        ),
        CallToAction(
            campaign=campaign,
            kind=CallToAction.Kind.SHIFT,
            status="open",
            title="Tractage au marché Saint-Martin",
            slug="tractage-saint-martin",
            starts_at=saturday,
            ends_at=saturday + datetime.timedelta(hours=3),
            slots=8,
        ),
        CallToAction(
            campaign=campaign,
            kind=CallToAction.Kind.EVENT,
            status="open",
            title="Venir à la réunion publique",
            slug="venir-reunion",
            event=event,
        ),
    ]
    for call in calls:
        services.call_save(call=call, actor=actor)
    for network in ("whatsapp", "facebook", "email", "whatsapp", "bluesky"):
        services.call_respond(call=calls[1], kind=Response.Kind.CLICK, detail=network)
    for _ in range(7):
        services.call_respond(call=calls[0], kind=Response.Kind.CLICK)


def _data(person: Person) -> dict[str, object]:
    email = person.emails.filter(status=PersonEmail.Status.OK).values_list("address", flat=True).first()
    return {"first_names": person.first_names, "last_name": person.last_name, "email": email}


def _sign(action: Action, people: list[Person], rng: random.Random) -> None:
    """Signatures spread over the last two weeks, for the results' chart."""
    now = timezone.now()
    for person in people:
        data = {**_data(person), "consent_email": rng.random() < 0.7, "show_name": rng.random() < 0.5}
        submission = services.submission_record(action=action, data=data, ip="192.0.2.10", via="page")
        at = now - datetime.timedelta(days=rng.random() * 14)
        Submission.objects.filter(pk=submission.pk).update(created_at=at)


def _come(event: Event, people: list[Person], check_in=None) -> None:  # type: ignore[no-untyped-def]
    past = event.is_past
    if past:  # RSVPs were taken before the event: open it for the time of the demo's history
        Event.objects.filter(pk=event.pk).update(status=Event.Status.OPEN)
        event.status, ends_at = Event.Status.OPEN, event.ends_at
        event.ends_at = timezone.now() + datetime.timedelta(hours=1)
    for index, person in enumerate(people):
        rsvp = services.rsvp_record(event=event, data=_data(person), ip="192.0.2.11", guests=int(index % 3 == 0))
        if check_in is not None and index % 4 != 3:
            services.rsvp_check_in(rsvp=rsvp, actor=check_in)
    if past:
        Event.objects.filter(pk=event.pk).update(status=Event.Status.CLOSED)
        event.ends_at = ends_at
    RSVP.objects.filter(event=event).update(created_at=event.starts_at - datetime.timedelta(days=3))
    RSVP.objects.filter(event=event, checked_in_at__isnull=False).update(
        checked_in_at=event.starts_at + datetime.timedelta(minutes=10)
    )


def _views(campaign: Campaign, actions: list[Action], events: list[Event], rng: random.Random) -> None:
    today = timezone.localdate()
    pages = [f"action:{action.pk}" for action in actions] + [f"event:{event.pk}" for event in events]
    PageView.objects.bulk_create(
        PageView(campaign=campaign, page=page, day=today - datetime.timedelta(days=back), count=rng.randint(8, 60))
        for page in pages
        for back in range(14)
    )
