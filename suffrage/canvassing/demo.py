"""Demo canvassing: door-to-door over the top polling stations of the demo's saved
priority ranking, cut into turfs, one turf held by the demo volunteer with some
doors already knocked (through the same sync as the app), and a phone bank over
the members who can be phoned. Idempotent."""

from __future__ import annotations

import datetime
import random
import uuid

from django.utils import timezone

from suffrage.canvassing import planning, services
from suffrage.canvassing.area import stations_from_ranking
from suffrage.canvassing.models import DOOR_OUTCOMES, Canvass, Door, Outcome, Question, Turf
from suffrage.canvassing.sync import visits_sync
from suffrage.core.models import Campaign, Membership
from suffrage.core.roles import Role
from suffrage.elections.models import PriorityRanking
from suffrage.segments.models import Segment

SCRIPT = """Bonjour, je suis bénévole pour **Brest en commun**, la liste qui se présente aux municipales.

1. Présentez-vous et demandez si la personne a deux minutes.
2. Demandez quel sujet compte le plus pour elle dans le quartier.
3. Parlez de notre proposition sur ce sujet (voir le tract).
4. Proposez de laisser ses coordonnées pour être tenue informée : **cochez seulement ce qu'elle accepte**.

Ne notez un niveau de soutien que si la personne le dit elle-même."""

QUESTIONS = [
    (
        "single",
        "Quel sujet compte le plus pour vous dans le quartier ?",
        ["Logement", "Transports", "Écoles", "Sécurité", "Commerces"],
    ),
    ("scale", "Comment jugez-vous la vie dans le quartier (1 à 5) ?", []),
    ("multiple", "Comment aimeriez-vous être tenu(e) informé(e) ?", ["Courriel", "SMS", "Réunions publiques"]),
    ("text", "Autre remarque", []),
]


def load(campaign: Campaign) -> None:
    owner = Membership.objects.filter(campaign=campaign, role=Role.OWNER).select_related("user").first()
    volunteer = Membership.objects.filter(campaign=campaign, role=Role.VOLUNTEER).select_related("user").first()
    ranking = PriorityRanking.objects.filter(campaign=campaign).first()
    if owner is None or ranking is None or Canvass.objects.filter(campaign=campaign).exists():
        return
    actor = owner.user
    today = timezone.localdate()
    canvass = services.canvass_save(
        canvass=Canvass(
            campaign=campaign,
            kind=Canvass.Kind.DOORS,
            status=Canvass.Status.ACTIVE,
            name="Porte-à-porte — bureaux prioritaires",
            starts_on=today - datetime.timedelta(days=3),
            ends_on=today + datetime.timedelta(days=25),
            goal_doors=2000,
            goal_conversations=400,
            script=SCRIPT,
            area={"stations": stations_from_ranking(ranking, 6), "ranking": ranking.pk},
            turf_size=60,
        ),
        actor=actor,
    )
    for position, (kind, text, choices) in enumerate(QUESTIONS):
        services.question_save(
            question=Question(canvass=canvass, position=position, kind=kind, text=text, choices=choices), actor=actor
        )
    planning.canvass_plan(canvass=canvass, actor=actor)
    turf = Turf.objects.filter(canvass=canvass).order_by("pk").first()
    if turf is not None and volunteer is not None:
        planning.turf_assign(turf=turf, volunteer=volunteer.user, actor=actor)
        _knock(campaign, canvass, turf, volunteer.user)
    _phone_bank(campaign, actor)


def _knock(campaign: Campaign, canvass: Canvass, turf: Turf, volunteer) -> None:  # type: ignore[no-untyped-def]
    """The first 25 doors of the volunteer's turf, as the app would sync them."""
    rng = random.Random(2027)
    questions = list(canvass.questions.all())
    records = []
    for index, door in enumerate(Door.objects.filter(turf=turf).order_by("position")[:25]):
        outcome = rng.choice([o for o in DOOR_OUTCOMES if o != Outcome.DO_NOT_CONTACT])
        recorded_at = timezone.now() - datetime.timedelta(minutes=3 * (25 - index))
        record = {
            "client_id": str(uuid.uuid4()),
            "door_id": door.pk,
            "outcome": outcome,
            "note": "",
            "recorded_at": recorded_at.isoformat(),
        }
        if outcome == Outcome.OPENED:
            record["answers"] = {
                str(questions[0].pk): rng.choice(questions[0].choices),
                str(questions[1].pk): rng.randint(2, 5),
            }
            if index % 2 == 0:
                record["contact"] = {
                    "first_names": rng.choice(["Gwenaëlle", "Tanguy", "Morgane", "Erwan", "Nolwenn"]),
                    "last_name": rng.choice(["Le Bihan", "Kerhervé", "Abgrall", "Le Roux"]),
                    "email": f"porte{index}@example.org",
                    "consent_email": True,
                }
        records.append(record)
    result = visits_sync(campaign=campaign, volunteer=volunteer, records=records)
    assert not result.rejected, result.rejected  # the demo's own records must all go through


def _phone_bank(campaign: Campaign, actor) -> None:  # type: ignore[no-untyped-def]
    segment = Segment.objects.filter(campaign=campaign).order_by("pk").first()
    if segment is None:
        return
    bank = services.canvass_save(
        canvass=Canvass(
            campaign=campaign,
            kind=Canvass.Kind.PHONE,
            status=Canvass.Status.ACTIVE,
            name="Appels — invitation à la réunion publique",
            goal_doors=200,
            script="Bonjour, ici un bénévole de Brest en commun : nous organisons une réunion publique…",
            area={"segment": segment.pk},
        ),
        actor=actor,
    )
    services.question_save(
        question=Question(
            canvass=bank, kind="single", text="Viendrez-vous à la réunion ?", choices=["Oui", "Peut-être", "Non"]
        ),
        actor=actor,
    )
    services.call_list_build(canvass=bank, actor=actor)
