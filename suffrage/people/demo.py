"""Demo people for the demo campaign: a real import of 2,000 contacts through the
pipeline, web-form sign-ups with consent, tags, a custom field, notes, consent
withdrawals and a few duplicates to merge. Idempotent: skipped once people exist."""

from __future__ import annotations

import random
import tempfile
from pathlib import Path

from django.core.files import File

from suffrage.core.models import Campaign, Membership
from suffrage.core.roles import Role
from suffrage.imports.normalise import normalise_phone
from suffrage.imports.services import batch_configure, batch_create, import_run, import_start
from suffrage.people import services
from suffrage.people.models import CustomField, LegalBasis, Person, Source
from suffrage.people.synthetic import CSV_MAPPING, synthetic_contacts, write_contacts_csv

IMPORTED = 2000
SIGNED_UP = 400
DUPLICATES = 12
NEIGHBOURHOODS = ["Centre-ville", "Saint-Martin", "Recouvrance", "Bellevue", "Lambézellec", "Saint-Marc", "Europe"]


def load(campaign: Campaign) -> None:
    if Person.objects.filter(campaign=campaign).exists():
        return
    owner = Membership.objects.filter(campaign=campaign, role=Role.OWNER).select_related("user").first()
    actor = owner.user if owner else None
    rng = random.Random(29)
    _import_contacts(campaign, actor)
    _web_sign_ups(campaign, actor, rng)
    _tags_fields_and_notes(campaign, actor, rng)
    _duplicates(campaign, actor, rng)


def _import_contacts(campaign: Campaign, actor) -> None:  # type: ignore[no-untyped-def]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fichier-militants-2026.csv"
        write_contacts_csv(path, IMPORTED, seed=29)
        with path.open("rb") as handle:
            batch = batch_create(campaign=campaign, upload=File(handle, name=path.name), actor=actor)
    options = {"source": Source.IMPORT, "legal_basis": LegalBasis.MEMBER, "match_on": "email", "on_match": "fill"}
    batch_configure(batch=batch, mapping=CSV_MAPPING, options=options, actor=actor)
    job = import_start(batch=batch, actor=actor, dry_run=False)
    # Run it now so the demo is complete at once; the task queued on commit then finds it done.
    import_run(job_id=job.pk)


def _web_sign_ups(campaign: Campaign, actor, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    for row in synthetic_contacts(SIGNED_UP, seed=56):
        person = services.person_create(
            campaign=campaign,
            actor=None,
            source=Source.WEB_FORM,
            source_detail="Pétition « Sauvons la ligne de bus 3 »",
            legal_basis=LegalBasis.CONSENT,
            first_names=row["first_names"],
            usage_name=row["last_name"],
            email=row["email"].replace("@", ".web@"),
            phone=normalise_phone(row["phone"]),
            address={"number": row["number"], "street": row["street"], "postcode": row["postcode"], "town": "Brest"},
        )
        services.consent_record(
            person=person,
            channel="email",
            granted=True,
            source=Source.WEB_FORM,
            form="Pétition ligne 3, v2",
            wording="J'accepte de recevoir les informations de la campagne par courriel.",
            ip=f"192.0.2.{rng.randrange(1, 255)}",
        )
        if rng.random() < 0.5:
            services.consent_record(
                person=person, channel="sms", granted=True, source=Source.WEB_FORM, form="Pétition ligne 3, v2"
            )
        if rng.random() < 0.05:
            services.consent_record(
                person=person,
                channel="email",
                granted=False,
                source=Source.MANUAL,
                actor=actor,
                form="Désinscription par courriel",
            )


def _tags_fields_and_notes(campaign: Campaign, actor, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    field = services.custom_field_save(
        campaign=campaign,
        actor=actor,
        label="Quartier",
        key="quartier",
        kind=CustomField.Kind.CHOICE,
        choices=NEIGHBOURHOODS,
    )
    ids = list(Person.objects.filter(campaign=campaign).values_list("pk", flat=True))
    for tag, share in (("Militant", 0.3), ("Bénévole porte-à-porte", 0.08), ("Donateur", 0.05), ("Presse", 0.01)):
        services.people_tag(
            campaign=campaign, people_ids=rng.sample(ids, int(len(ids) * share)), tag_name=tag, add=True, actor=actor
        )
    people = Person.objects.filter(pk__in=rng.sample(ids, 600))
    for person in people:
        person.custom[field.key] = rng.choice(NEIGHBOURHOODS)
        person.is_volunteer = rng.random() < 0.2
    Person.objects.bulk_update(people, ["custom", "is_volunteer"])
    for person in Person.objects.filter(pk__in=rng.sample(ids, 40)):
        services.note_add(
            person=person,
            text=rng.choice(
                [
                    "Rencontré(e) au marché de Saint-Louis.",
                    "Souhaite tenir un bureau de vote.",
                    "Intéressé(e) par le programme transports.",
                    "A demandé un rappel en soirée.",
                ]
            ),
            actor=actor,
        )


def _duplicates(campaign: Campaign, actor, rng: random.Random) -> None:  # type: ignore[no-untyped-def]
    """The same people entered again by hand, as happens at events: for the duplicates page."""
    originals = Person.objects.filter(campaign=campaign, source=Source.IMPORT).prefetch_related("emails")[:DUPLICATES]
    for person in originals:
        email = person.emails.first()
        services.person_create(
            campaign=campaign,
            actor=actor,
            source=Source.EVENT,
            source_detail="Réunion publique du 12 novembre",
            legal_basis=LegalBasis.CONSENT,
            first_names=person.first_names.upper() if rng.random() < 0.5 else person.first_names,
            usage_name=person.usage_name,
            email=email.address.upper() if email and rng.random() < 0.3 else (email.address if email else ""),
        )
