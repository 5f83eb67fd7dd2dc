"""Demo roll: a synthetic roll of Brest's demo polling stations, imported through the
pipeline and labelled synthetic; web signups drawn from it (with the noise of real
forms) matched to it, some linked, some in the review queue. Idempotent."""

from __future__ import annotations

import datetime
import tempfile
from pathlib import Path

from django.core.files import File

from suffrage.core.models import Campaign, Membership, User
from suffrage.core.roles import Role
from suffrage.imports.normalise import parse_date
from suffrage.imports.services import batch_create, import_run, import_start
from suffrage.people.models import LegalBasis, Source
from suffrage.people.services import person_create
from suffrage.people.synthetic import street_names
from suffrage.roll.models import RollVersion
from suffrage.roll.services import match_run, match_start, roll_batch_configure
from suffrage.roll.synthetic import RollStation, noisy_signups, synthetic_roll, write_roll_csv
from suffrage.territory.selectors import campaign_stations

ROLL_SIZE = 8000
SIGNUPS = 150
# Postcodes of the communes the demo knows; others are left blank.
POSTCODES = {"29019": "29200"}


def campaign_roll_stations(campaign: Campaign, commune: str = "") -> list[RollStation]:
    """The campaign's real polling stations, each given a share of a street list
    (synthetic: no public file says which streets vote where)."""
    stations = campaign_stations(campaign).order_by("code")
    if commune:
        stations = stations.filter(commune__code=commune)
    streets = street_names()
    result = []
    for index, station in enumerate(stations):
        served = tuple(streets[(index * 3 + offset) % len(streets)] for offset in range(4))
        result.append(
            RollStation(
                code=station.code,
                number=station.number,
                name=station.name or station.code,
                commune_code=station.commune.code,
                commune_name=station.commune.name,
                postcode=POSTCODES.get(station.commune.code, ""),
                streets=served,
            )
        )
    return result


def load(campaign: Campaign) -> None:
    election = campaign.elections.first()
    stations = campaign_roll_stations(campaign, "29019")
    if election is None or not stations or RollVersion.objects.filter(campaign=campaign).exists():
        return
    owner = Membership.objects.filter(campaign=campaign, role=Role.OWNER).select_related("user").first()
    actor: User | None = owner.user if owner else None
    rows = list(synthetic_roll(ROLL_SIZE, stations, seed=29))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "liste-electorale-brest-SYNTHETIQUE.csv"
        write_roll_csv(path, rows)
        with path.open("rb") as handle:
            batch = batch_create(campaign=campaign, upload=File(handle, name=path.name), actor=actor, kind="roll")
    roll_batch_configure(
        batch=batch,
        mapping=batch.mapping,
        election=election,
        scope="29019",
        extracted_on=election.first_round_on.replace(month=3, day=1),
        synthetic=True,
    )
    import_run(job_id=import_start(batch=batch, actor=actor, dry_run=False).pk)  # type: ignore[arg-type]
    for signup in noisy_signups(rows, SIGNUPS, on_roll_share=0.8, seed=30):
        values = signup.values
        person_create(
            campaign=campaign,
            actor=None,
            source=Source.WEB_FORM,
            source_detail="Formulaire « Je soutiens »",
            legal_basis=LegalBasis.CONSENT,
            first_names=values["first_names"],
            usage_name=values["last_name"],
            birth_date=_date(values["birth_date"]),
            support_level=1,
            address={
                "number": values["number"],
                "street": values["street"],
                "postcode": values["postcode"],
                "town": values["town"],
            },
        )
    version = RollVersion.objects.get(batch=batch)
    match_run(job_id=match_start(version=version, actor=actor).pk)


def _date(text: str) -> datetime.date | None:
    try:
        return parse_date(text)
    except ValueError:
        return None
